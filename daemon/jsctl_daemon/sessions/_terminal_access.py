"""Clients on a session's terminal: attachments, typing, size, output by offset, the screen."""

from __future__ import annotations

from collections.abc import Callable

import trio

from ._errors import InvalidOffset
from ._model import AttachmentInfo, ScreenSnapshot, SessionInfo
from ._registry import DEFAULT_READ_BYTES, SessionRegistry
from ._ring import ReadResult


class TerminalAccess(SessionRegistry):
    """What clients do on a session's terminal besides running commands."""

    _attachment_seq = 0

    def attach(self, ref: str, client: str, *, read_only: bool) -> AttachmentInfo:
        """Record a client attaching (shown in listings; read-only is the connection's)."""
        self._attachment_seq += 1
        return self._session(ref).attach(self._attachment_seq, client, read_only)

    def detach(self, ref: str, attachment_id: int) -> None:
        """Record a client detaching; the session keeps running."""
        self._session(ref).detach(attachment_id)

    async def write_input(self, ref: str, data: bytes) -> None:
        """Type bytes into the session (a read-only watcher's connection is refused before)."""
        session = self._session(ref)
        session.require_writable()  # refused input (ended, paused) was never typed
        session.note_typed(data)
        await session.send_input(data)

    def add_output_filter(self, ref: str, output_filter: Callable[[bytes], bytes]) -> None:
        """Pass the session's output through ``output_filter`` (before older filters)."""
        self._session(ref).output_filters.insert(0, output_filter)

    async def resize(self, ref: str, cols: int, rows: int) -> SessionInfo:
        """Change the terminal's size."""
        session = self._session(ref)
        await session.resize(cols, rows)
        return session.info()

    def read_from(self, ref: str, offset: int, max_bytes: int = DEFAULT_READ_BYTES) -> ReadResult:
        """Output from ``offset``; ``missed`` counts bytes that fell out of the buffer."""
        session = self._session(ref)
        try:
            result = session.ring.read_from(offset, max_bytes)
        except ValueError as exc:
            raise InvalidOffset(
                f"{exc} of session `{session.id}` — read from {session.ring.end_offset} or less"
            ) from exc
        session.touch()
        return result

    async def wait_for_output(self, ref: str, offset: int, max_wait_s: float) -> SessionInfo:
        """Wait until output exists past ``offset``, the session ends, or ``max_wait_s`` pass."""
        session = self._session(ref)
        with trio.move_on_after(max_wait_s):
            while session.ring.end_offset <= offset and not session.state.ended:
                await session.wait_for_change()
        return session.info()

    def connecting(self, ref: str) -> bool:
        """Whether KoKo still asks for the account's secret before it reaches the asset."""
        return self._session(ref).connecting

    async def wait_ready(self, ref: str, max_wait_s: float) -> bool:
        """Wait until the session's shell relays and sits idle at its prompt (a connect
        secret answered, the setup typed): True then; False if it ended or time ran out."""
        session = self._session(ref)
        with trio.move_on_after(max_wait_s):
            while not session.state.ended:
                if not session.connecting and session.why_busy(watchers_ok=True) is None:
                    return True
                await session.wait_for_change()
        return False

    async def screen(self, ref: str) -> ScreenSnapshot:
        """What a person would see on the terminal now."""
        return await self._session(ref).screen()
