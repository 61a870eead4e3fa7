"""Length-prefixed msgpack frames: 4-byte big-endian length, then one msgpack map."""

from __future__ import annotations

import struct

import msgpack

from ._errors import ProtocolError

TYPE_CHECKING = False  # typing itself is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

MAX_FRAME_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")


def encode_frame(message: dict[str, Any], max_bytes: int = MAX_FRAME_BYTES) -> bytes:
    """Serialise one message into a frame; refuses messages larger than the cap."""
    try:
        body: bytes = msgpack.packb(message, use_bin_type=True)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ProtocolError(f"message cannot be encoded: {exc}") from exc
    if len(body) > max_bytes:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds the {max_bytes}-byte cap")
    return _HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> dict[str, Any]:
    """Decode one frame body into a map, or raise ProtocolError."""
    try:
        message = msgpack.unpackb(body, raw=False, strict_map_key=True, use_list=True)
    except Exception as exc:  # msgpack raises many types on garbage; all mean "bad frame"
        raise ProtocolError(f"frame body is not valid msgpack: {type(exc).__name__}") from exc
    if not isinstance(message, dict):
        raise ProtocolError("frame body is not a map")
    return message


class FrameDecoder:
    """Sans-I/O decoder: feed it bytes, take complete messages out.

    A frame whose body is garbage is reported and skipped. A frame over the cap cannot be
    skipped safely, so the decoder is then ``broken``: answer once and close the connection.
    """

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max_bytes = max_bytes
        self.broken = False

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buffer += data

    @property
    def pending_bytes(self) -> int:
        """Bytes received but not yet returned as a message."""
        return len(self._buffer)

    def next_message(self) -> dict[str, Any] | None:
        """The next complete message, None if more bytes are needed; ProtocolError on garbage."""
        if self.broken:
            raise ProtocolError("the stream is broken by an earlier bad frame")
        if len(self._buffer) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(self._buffer)
        if length > self._max_bytes:
            self.broken = True
            raise ProtocolError(f"frame of {length} bytes exceeds the {self._max_bytes}-byte cap")
        end = _HEADER.size + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[_HEADER.size : end])
        del self._buffer[:end]
        # A bad body leaves the stream in sync (its length was honest), so no `broken` here.
        return decode_body(body)
