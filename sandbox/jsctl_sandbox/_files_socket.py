"""The life of a KoKo file WebSocket (``/koko/ws/sftp/``, ``/koko/ws/elfinder/``).

Same outer protocol as the terminal (sheet 7.2-7.6): cookie auth with a 302 to the
login page, JMS-KOKO subprotocol, token consumption (ERROR, or silence for another
user's token), CONNECT, server PING after 30 s without writes, 5-minute read deadline,
never a close frame from the server. Subclasses answer the client's messages.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from typing import Any

import trio
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from jsctl_koko import ENVELOPE_KEYS, MessageType, decode_client_message
from jsctl_sandbox._files_go import go_json
from jsctl_sandbox._files_volume import FileVolume
from jsctl_sandbox._koko_abort import abort_connection
from jsctl_sandbox._koko_io import Outbox, consume_token, heartbeat, receive_within
from jsctl_sandbox._koko_session import connect_data
from jsctl_sandbox.koko_contract import KokoBackend, KokoGrant, KokoSettings, KokoUser

__all__ = [
    "FileMessage",
    "FileOutbox",
    "FileSocket",
    "encode_file_message",
    "peer_ip",
]


def peer_ip(connection: HTTPConnection) -> str:
    """The client address KoKo sees (first X-Forwarded-For entry, else the peer)."""
    forwarded = connection.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return connection.client.host if connection.client else ""


def encode_file_message(
    type: str,
    *,
    id: str = "",
    data: str = "",
    err: str = "",
    raw: bytes | None = None,
    cmd: str = "",
    current_path: str = "",
) -> str:
    """A v4 server frame with the file manager's keys; ``raw=b""`` is Go's empty ``""``."""
    frame: dict[str, Any] = dict(ENVELOPE_KEYS)
    frame.update(id=id, type=type, data=data, err=err, cmd=cmd, current_path=current_path)
    frame["raw"] = None if raw is None else base64.b64encode(raw).decode("ascii")
    return go_json(frame)


class FileOutbox(Outbox):
    """The terminal's outbox, plus ready-made text frames."""

    async def text(self, frame: str) -> None:
        """Send one pre-encoded text frame."""
        await self._send({"type": "websocket.send", "text": frame})


@dataclass(frozen=True)
class FileMessage:
    """One client message as KoKo's file handlers see it."""

    type: str
    id: str = ""
    data: str = ""
    raw: bytes = b""
    cmd: str = ""


def decode_file_message(text: str) -> FileMessage | None:
    """A client text frame, or None when KoKo would drop it (it then answers nothing)."""
    message = decode_client_message(text)
    if message is None:
        return None
    # The shared decoder keeps no `cmd`; read it from a second parse.
    cmd = json.loads(text).get("cmd")
    if cmd is not None and not isinstance(cmd, str):
        return None
    return FileMessage(
        type=message.type, id=message.id, data=message.data, raw=message.raw, cmd=cmd or ""
    )


class FileSocket:
    """One accepted file socket: token, volume, CONNECT, keep-alive; ``handle`` is the rest."""

    def __init__(self, websocket: WebSocket, backend: KokoBackend, user: KokoUser) -> None:
        self.websocket = websocket
        self.backend = backend
        self.user = user
        self.outbox = FileOutbox(websocket, v3=backend.settings.version.startswith("3."))
        self.ws_id = str(uuid.uuid4())
        self.grant: KokoGrant | None = None
        self.volume: FileVolume | None = None

    @property
    def settings(self) -> KokoSettings:
        """Read afresh each time: the control API changes knobs live."""
        return self.backend.settings

    async def run(self) -> None:
        """Serve the socket until the client goes away or the read deadline passes."""
        try:
            async with trio.open_nursery() as nursery:
                if await self._open():
                    await self.opened(nursery)
                    data = connect_data(self.user, self._grant, self.settings)
                    await self.outbox.message(MessageType.CONNECT, id=self.ws_id, data=data)
                nursery.start_soon(heartbeat, self.outbox, self.ws_id, self.backend)
                await self._receive_loop(nursery)
                nursery.cancel_scope.cancel()
        finally:
            self.closed()
            if self.volume is not None:
                self.volume.close()

    @property
    def _grant(self) -> KokoGrant:
        assert self.grant is not None
        return self.grant

    async def _open(self) -> bool:
        # Token-less (asset tree) mode is not simulated: KoKo's text for a bad request.
        token = self.websocket.query_params.get("token", "")
        self.grant = await consume_token(
            self.outbox, self.backend, self.user, token, error_id=self.ws_id
        )
        if self.grant is None:
            return False
        self.volume = FileVolume(self.grant)
        return True

    async def opened(self, nursery: trio.Nursery) -> None:
        """Hook: the volume exists and CONNECT is about to be sent."""

    def closed(self) -> None:
        """Hook: the socket is done (before the volume is closed)."""

    async def handle(self, message: FileMessage) -> None:
        """Hook: a client message other than PING/PONG (ignored by default, like elFinder)."""

    async def _receive_loop(self, nursery: trio.Nursery) -> None:
        while True:
            frame = await receive_within(self.websocket, self.settings.read_deadline_s)
            if frame is None:
                self._abort(nursery)
                return
            if frame["type"] == "websocket.disconnect":
                return
            message: FileMessage | None = None
            if frame.get("bytes") is not None:
                message = FileMessage(type=MessageType.TERMINAL_BINARY, raw=frame["bytes"])
            elif frame.get("text") is not None:
                message = decode_file_message(frame["text"])
            if message is None or message.type in (MessageType.PING, MessageType.PONG):
                continue
            if self.volume is not None and not self.outbox.silenced.is_set():
                await self.handle(message)

    def _abort(self, nursery: trio.Nursery) -> None:
        """Drop the connection without a close frame, as a KoKo-side failure does."""
        self.outbox.silence()
        abort_connection(self.websocket.scope)
        nursery.cancel_scope.cancel()
