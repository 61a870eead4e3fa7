"""A KoKo terminal's WebSocket, read by the task that consumes its messages (no reader task).

trio-websocket gives every connection a reader task, a message channel, five Events and keeps
its HTTP upgrade objects (h11 state, the request with the cookie) for the connection's
lifetime: about 12 KiB per idle terminal, where the budget is 64 KiB. A terminal always has
exactly one consumer (the session's pump), so this socket lets that consumer read the stream
itself, on wsproto (which trio-websocket uses too): it answers pings and the closing handshake
while reading, keeps after the upgrade only wsproto's frame state, and raises trio-websocket's
own ConnectionClosed/ConnectionRejected so callers handle both sockets alike. File sessions,
whose replies are awaited by many tasks at once, keep trio-websocket.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress

import trio
from trio_websocket import CloseReason, ConnectionClosed, ConnectionRejected
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

__all__ = ["TerminalSocket", "open_terminal_socket"]

READ_SIZE = 64 * 1024  # one read takes what the socket has; attach throughput wants big reads
_REJECT_BODY = 4096  # enough of a refusal's body for a message


async def open_terminal_socket(
    stream: trio.abc.Stream,
    host: str,
    resource: str,
    *,
    subprotocols: Sequence[str],
    headers: list[tuple[bytes, bytes]],
    max_message_size: int = 2**20,
) -> TerminalSocket:
    """Upgrade ``stream`` to a WebSocket; a refusal raises ConnectionRejected (status, body).

    The upgrade's objects (h11, the request and its headers) are dropped once it is accepted.
    """
    upgrade = WSConnection(ConnectionType.CLIENT)
    request = Request(
        host=host, target=resource, subprotocols=list(subprotocols), extra_headers=headers
    )
    await stream.send_all(upgrade.send(request))
    del request, headers
    rejected: RejectConnection | None = None
    body = b""
    while True:
        data = await stream.receive_some(READ_SIZE)
        if not data:
            if rejected is not None:
                raise ConnectionRejected(rejected.status_code, tuple(rejected.headers), body)
            raise ConnectionClosed(CloseReason(1006, "closed during the WebSocket upgrade"))
        try:
            upgrade.receive_data(bytes(data))
        except RemoteProtocolError as exc:
            raise ConnectionClosed(CloseReason(1002, f"bad upgrade answer: {exc}")) from None
        for event in upgrade.events():
            if isinstance(event, AcceptConnection):
                connection = upgrade.connection
                assert connection is not None  # wsproto sets it with the AcceptConnection
                return TerminalSocket(stream, connection, max_message_size)
            if isinstance(event, RejectConnection):
                rejected = event
                if not event.has_body:
                    raise ConnectionRejected(event.status_code, tuple(event.headers), None)
            elif isinstance(event, RejectData) and rejected is not None:
                body = (body + event.data)[:_REJECT_BODY]
                if event.body_finished:
                    raise ConnectionRejected(rejected.status_code, tuple(rejected.headers), body)


class TerminalSocket:
    """An open WebSocket: ``get_message`` (one consumer), ``send_message``, ``ping``, ``aclose``.

    ``heard_at`` is when the last frame of any kind arrived (trio clock), pongs included.
    """

    __slots__ = (
        "_closed",
        "_parts",
        "_proto",
        "_send_lock",
        "_size",
        "_stream",
        "heard_at",
        "max_message_size",
    )

    def __init__(self, stream: trio.abc.Stream, proto: Connection, max_message_size: int) -> None:
        self._stream = stream
        self._proto = proto
        self._send_lock = trio.Lock()  # pongs from the reader and messages from others
        self._parts: list[str | bytes] = []
        self._size = 0
        self._closed: CloseReason | None = None
        self.max_message_size = max_message_size
        self.heard_at = trio.current_time()

    @property
    def closed(self) -> CloseReason | None:
        """Why the connection is closed, once it is."""
        return self._closed

    async def get_message(self) -> str | bytes:
        """The next whole message; raises ConnectionClosed once the connection has ended."""
        while True:
            if self._closed is not None:
                raise ConnectionClosed(self._closed)
            message = await self._next_event_message()
            if message is not None:
                return message
            try:
                data = await self._stream.receive_some(READ_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if self._closed is not None:
                continue  # closed by aclose() meanwhile
            if not data:
                await self._abort(1006, "the connection dropped")
                continue
            self.heard_at = trio.current_time()
            try:
                self._proto.receive_data(bytes(data))
            except (LocalProtocolError, RemoteProtocolError) as exc:
                await self._abort(1002, str(exc))

    async def _next_event_message(self) -> str | bytes | None:
        for event in self._proto.events():
            if isinstance(event, TextMessage | BytesMessage):
                self._size += len(event.data)
                if self._size > self.max_message_size:
                    await self.aclose(1009, "message too big")
                    return None
                message = self._add_part(event)
                if message is not None:
                    return message
            elif isinstance(event, Ping):
                await self._send_frame(event.response())
            elif isinstance(event, CloseConnection):  # KoKo's, or ours for a bad frame
                if self._proto.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                    with suppress(ConnectionClosed):
                        await self._send_frame(event.response())
                await self._abort(event.code, event.reason or None)
                return None
            # Pong: heard_at is all it means here
        return None

    def _add_part(self, event: TextMessage | BytesMessage) -> str | bytes | None:
        data = event.data if isinstance(event, TextMessage) else bytes(event.data)
        if event.message_finished and not self._parts:
            self._size = 0
            return data
        self._parts.append(data)
        if not event.message_finished:
            return None
        parts, self._parts, self._size = self._parts, [], 0
        if isinstance(event, TextMessage):
            return "".join(part for part in parts if isinstance(part, str))
        return b"".join(part for part in parts if isinstance(part, bytes))

    async def send_message(self, message: str | bytes) -> None:
        """Send one text (str) or binary (bytes) message."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        event = TextMessage(data=message) if isinstance(message, str) else BytesMessage(message)
        await self._send_frame(event)

    async def ping(self, payload: bytes = b"") -> None:
        """Send a ping; its pong moves ``heard_at`` when the consumer reads it."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        await self._send_frame(Ping(payload=payload))

    async def _send_frame(self, event: Event) -> None:
        async with self._send_lock:
            if self._closed is not None:
                raise ConnectionClosed(self._closed)
            try:
                data = self._proto.send(event)
                await self._stream.send_all(data)
            except (LocalProtocolError, trio.BrokenResourceError, trio.ClosedResourceError):
                await self._abort(1006, "the connection dropped")
                raise ConnectionClosed(self._closed) from None

    async def _abort(self, code: int, reason: str | None) -> None:
        if self._closed is None:
            self._closed = CloseReason(code, reason)
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(self._stream)

    async def aclose(self, code: int = 1000, reason: str | None = None) -> None:
        """Say goodbye (a close frame) and close the stream; a no-op once closed."""
        if self._closed is not None:
            return
        if self._proto.state is ConnectionState.OPEN:
            try:
                await self._send_frame(CloseConnection(code=code, reason=reason))
            except ConnectionClosed:
                return
        await self._abort(code, reason)
