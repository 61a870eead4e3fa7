"""The contract between a live terminal transport (a KoKo WebSocket) and the sessions layer."""

from __future__ import annotations

from typing import Any, Protocol


class TerminalEnded(Exception):
    """The terminal is over; ``reason`` says why in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TerminalClosed(TerminalEnded):
    """The remote side ended the terminal in an orderly way (shell exit, KoKo CLOSE/ERROR)."""


class TerminalLost(TerminalEnded):
    """The connection broke or went silent (dropped WebSocket, heartbeat missed)."""


class TerminalTransport(Protocol):
    """One live terminal on a remote asset."""

    @property
    def info(self) -> dict[str, Any]:
        """What the server told us about the session (e.g. KoKo's TERMINAL_SESSION data)."""
        ...

    async def receive(self) -> bytes:
        """The next chunk of output; raises TerminalClosed or TerminalLost when it ends."""
        ...

    async def send_input(self, data: bytes) -> None:
        """Send keystrokes/bytes to the remote terminal."""
        ...

    async def resize(self, cols: int, rows: int) -> None:
        """Tell the remote terminal its new window size."""
        ...
