"""One KoKo WebSocket kept alive for a file session: send lock, reader, heartbeat, end."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jsctl_koko import decode_server_message, encode_client_message

from ._errors import FileSessionLost
from ._settings import FileSettings

__all__ = ["KokoChannel", "serving"]

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class KokoChannel:
    """Reads frames into ``handler``, PINGs, answers PINGs, and remembers why it ended."""

    def __init__(self, ws: WebSocketConnection, settings: FileSettings, handler: Handler) -> None:
        self._ws = ws
        self._settings = settings
        self._handler = handler
        self._send_lock = trio.Lock()
        self._ping_seen, self._pings = trio.open_memory_channel[None](1)
        self.reason: str | None = None
        self.ended = trio.Event()
        self.on_end: list[Callable[[], None]] = []

    def end(self, reason: str) -> None:
        """Mark the session over (first reason wins) and wake everyone waiting on it."""
        if self.reason is None:
            self.reason = reason
        for callback in self.on_end:
            callback()
        self.ended.set()

    def lost(self) -> FileSessionLost:
        """The error for calls on an ended session."""
        return FileSessionLost(f"the KoKo file session ended: {self.reason or 'closed'}")

    async def send(self, text: str) -> None:
        """Send one text frame (FileSessionLost once the socket is gone)."""
        if self.reason is not None:
            raise self.lost()
        try:
            async with self._send_lock:
                await self._ws.send_message(text)
        except ConnectionClosed as exc:
            self.end(f"the connection to KoKo dropped (code {_code(exc)})")
            raise self.lost() from None

    async def read_loop(self) -> None:
        """Hand text frames to the handler until the socket ends (a nursery task)."""
        try:
            while self.reason is None:
                with trio.move_on_after(self._settings.liveness) as silence:
                    message = await self._ws.get_message()
                if silence.cancelled_caught:
                    self.end(f"KoKo sent nothing for {self._settings.liveness:g} s")
                    return
                if not isinstance(message, str):
                    continue
                parsed = decode_server_message(message) or {}
                kind = parsed.get("type")
                if kind == "PING":
                    with contextlib.suppress(trio.WouldBlock):
                        self._ping_seen.send_nowait(None)  # the heartbeat task answers
                    continue
                await self._handler(parsed)
                if kind in ("CLOSE", "ERROR"):
                    self.end(str(parsed.get("err") or f"KoKo sent {kind}"))
        except ConnectionClosed as exc:
            self.end(f"the connection to KoKo dropped (code {_code(exc)})")

    async def heartbeat(self) -> None:
        """PING every ``ping_interval``; PONG the server's PINGs (a nursery task)."""
        while self.reason is None:
            with trio.move_on_after(self._settings.ping_interval) as quiet:
                await self._pings.receive()
            kind = "PING" if quiet.cancelled_caught else "PONG"
            try:
                await self.send(encode_client_message("", kind, kind.lower()))
            except FileSessionLost:
                return

    async def aclose(self) -> None:
        """Close the socket (KoKo ends the file session with it)."""
        self.end("closed by jsctl")
        with trio.move_on_after(self._settings.close_timeout) as scope:
            scope.shield = True
            await self._ws.aclose()


class _Session(Protocol):
    channel: KokoChannel

    async def learn_root(self) -> None: ...

    async def aclose(self) -> None: ...


@contextlib.asynccontextmanager
async def serving(
    nursery: trio.Nursery,
    session: _Session,
    handshake: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIterator[None]:
    """Run ``session``'s reader and heartbeat in ``nursery`` and learn its root; close on exit.

    ``handshake`` (if any) is awaited first, already under the close-on-exit guard.
    """
    try:
        if handshake is not None:
            await handshake()
        nursery.start_soon(session.channel.read_loop)
        nursery.start_soon(session.channel.heartbeat)
        await session.learn_root()
        yield
    finally:
        await session.aclose()
        nursery.cancel_scope.cancel()


def _code(exc: ConnectionClosed) -> int:
    return exc.reason.code if exc.reason else 1006
