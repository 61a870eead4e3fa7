"""Sending side of a KoKo terminal socket: serialised frames, silence, UTF-8-safe output."""

from __future__ import annotations

from typing import Any

import trio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from jsctl_sandbox.koko_envelope import encode_server_message

__all__ = ["Outbox", "Utf8Splitter"]


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
    """Cuts a byte stream into chunks that never end inside a UTF-8 sequence."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        """Everything up to the last complete character; an unfinished tail is kept back."""
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
