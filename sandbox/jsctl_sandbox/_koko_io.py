"""Plumbing every KoKo socket shares: accept, token, serialised frames, keep-alive, UTF-8."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote_plus

import trio
from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse, Response
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from jsctl_koko import MessageType, encode_server_message
from jsctl_sandbox.koko_contract import (
    KokoBackend,
    KokoGrant,
    KokoTokenError,
    KokoTokenUserMismatch,
    KokoUser,
)

__all__ = [
    "MISSING_PARAMS_ERROR",
    "SUBPROTOCOL",
    "Outbox",
    "Utf8Splitter",
    "accept_koko_socket",
    "consume_token",
    "heartbeat",
    "login_redirect",
    "receive_within",
    "request_uri",
]

SUBPROTOCOL = "JMS-KOKO"
MISSING_PARAMS_ERROR = "Miss required ws params (token or target)"


def request_uri(scope: MutableMapping[str, Any]) -> str:
    """The request's path and query string as the client sent them."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope.get("path", "/")
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def login_redirect(connection: HTTPConnection) -> Response:
    """KoKo's answer to a request without a valid web session: 302 to the login page."""
    target = "/core/auth/login/?next=" + quote_plus(request_uri(connection.scope))
    return RedirectResponse(target, status_code=302)


async def accept_koko_socket(websocket: WebSocket) -> tuple[KokoBackend, KokoUser] | None:
    """KoKo's auth check (a 302 or 401 refuses the upgrade), then accept with JMS-KOKO."""
    backend: KokoBackend = websocket.app.state.koko_backend
    user = backend.authenticate(websocket)
    if not isinstance(user, KokoUser):
        await websocket.send_denial_response(user)
        return None
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    return backend, user


async def receive_within(websocket: WebSocket, seconds: float) -> Message | None:
    """The next ASGI frame, or None when the client stayed silent past ``seconds``."""
    with trio.move_on_after(seconds):
        return await websocket.receive()
    return None


class Outbox:
    """Writes frames one at a time, remembers when it last wrote, and can fall silent."""

    def __init__(self, websocket: WebSocket, *, v3: bool = False) -> None:
        self._websocket = websocket
        self._v3 = v3
        self._lock = trio.Lock()
        self.last_write = trio.current_time()
        self.silenced = trio.Event()

    def silence(self) -> None:
        """From now on nothing is sent (KoKo after ERROR/CLOSE, or a dropped socket)."""
        self.silenced.set()

    async def message(
        self, type: str, *, id: str = "", data: str | dict[str, Any] = "", err: str = ""
    ) -> None:
        """Send one envelope text frame."""
        await self._send({"type": "websocket.send", "text": self._encode(type, id, data, err)})

    async def final(self, type: str, *, id: str = "", data: str = "", err: str = "") -> None:
        """Send one last envelope frame, then fall silent."""
        async with self._lock:
            if not self.silenced.is_set():
                await self._raw_send(
                    {"type": "websocket.send", "text": self._encode(type, id, data, err)}
                )
            self.silence()

    async def binary(self, data: bytes) -> None:
        """Send raw terminal output as one binary frame."""
        if data:
            await self._send({"type": "websocket.send", "bytes": data})

    def _encode(self, type: str, id: str, data: str | dict[str, Any], err: str) -> str:
        return encode_server_message(type, id=id, data=data, err=err, v3=self._v3)

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._lock:
            if not self.silenced.is_set():
                await self._raw_send(frame)

    async def _raw_send(self, frame: dict[str, Any]) -> None:
        if self._websocket.application_state != WebSocketState.CONNECTED:
            self.silence()
            return
        try:
            await self._websocket.send(frame)
        except (WebSocketDisconnect, OSError):
            self.silence()  # the peer is gone; the receive side will see the disconnect
        else:
            self.last_write = trio.current_time()


async def consume_token(
    outbox: Outbox, backend: KokoBackend, user: KokoUser, token: str, *, error_id: str = ""
) -> KokoGrant | None:
    """The grant behind ``token``; on refusal answer as KoKo does (ERROR or silence)."""
    if not token:
        await outbox.final(MessageType.ERROR, id=error_id, err=MISSING_PARAMS_ERROR)
        return None
    try:
        return backend.consume_token(token, user)
    except KokoTokenError as exc:
        await outbox.final(MessageType.ERROR, id=error_id, err=str(exc))
    except KokoTokenUserMismatch:
        outbox.silence()
    return None


async def heartbeat(outbox: Outbox, ws_id: str, backend: KokoBackend) -> None:
    """KoKo's write-loop ticker: on each tick, PING when nothing was written for a while.

    With KoKo's 60 s ticker and 30 s threshold a PING comes 30 to 90 s after the last write
    (``userwebsocket.go`` ``writeMessageLoop``). Stops once silenced.
    """
    next_tick = trio.current_time()
    while not outbox.silenced.is_set():
        # Read afresh each round: the sandbox's control API changes knobs live.
        settings = backend.settings
        next_tick += settings.ping_tick_s
        with trio.move_on_at(next_tick):
            await outbox.silenced.wait()
            return
        if trio.current_time() - outbox.last_write >= settings.server_ping_after_s:
            await outbox.message(MessageType.PING, id=ws_id)


def _sequence_length(lead: int) -> int:
    """Bytes in the UTF-8 sequence starting with ``lead`` (1 for ASCII/invalid leads)."""
    if lead >= 0xF0:
        return 4 if lead < 0xF8 else 1
    if lead >= 0xE0:
        return 3
    if lead >= 0xC0:
        return 2
    return 1


class Utf8Splitter:
    """KoKo's output re-chunking (``switch.go`` ``Bridge``): a read that filled its buffer, or
    one following held-back bytes, is cut before an unfinished UTF-8 character (kept for the
    next read); a shorter read goes out as it is, so a character can be split across frames."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes, *, full: bool = True) -> bytes:
        """What KoKo sends for one read of ``data`` (``full``: the read filled its buffer)."""
        if not full and not self._pending:
            return data
        data = self._pending + data
        tail_start = len(data)
        # A sequence is at most 4 bytes: look back over up to 3 continuation bytes.
        for back in range(1, min(4, len(data)) + 1):
            byte = data[-back]
            if byte & 0xC0 != 0x80:  # not a continuation byte: a lead (or ASCII)
                if _sequence_length(byte) > back:
                    tail_start = len(data) - back
                break
        self._pending = data[tail_start:]
        return data[:tail_start]

    def flush(self) -> bytes:
        """Whatever is held back (at end of stream)."""
        pending, self._pending = self._pending, b""
        return pending
