"""Error codes and the two exception types of the wire protocol."""

from __future__ import annotations

import enum

TYPE_CHECKING = False  # typing itself is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any


class ErrorCode(enum.StrEnum):
    """Machine-readable error codes carried in ``{"error": {"code": ...}}`` replies."""

    BAD_FRAME = "bad_frame"  # bytes that are not a valid frame
    BAD_REQUEST = "bad_request"  # a frame that is not a valid request
    UNKNOWN_METHOD = "unknown_method"
    BAD_PARAMS = "bad_params"
    VERSION_MISMATCH = "version_mismatch"
    HELLO_REQUIRED = "hello_required"
    UNAUTHORIZED = "unauthorized"  # bad, expired or revoked client token
    FORBIDDEN = "forbidden"  # the client may not do this (permission, allow-list)
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    CONFLICT = "conflict"
    LIMIT = "limit"  # a configured limit was reached
    TIMEOUT = "timeout"
    LOGIN_REQUIRED = "login_required"  # the JumpServer login is missing or expired
    REMOTE = "remote"  # the JumpServer answered with an error
    UNREACHABLE = "unreachable"  # the JumpServer could not be reached (DNS, TCP, TLS)
    SESSION_ENDED = "session_ended"
    INTERNAL = "internal"


class ProtocolError(Exception):
    """Bytes or messages that break the wire contract (never anything else escapes decoding)."""


class RpcError(Exception):
    """An error reply: a code, a sentence a person can act on, and optional structured data."""

    def __init__(self, code: ErrorCode | str, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = ErrorCode(code) if code in ErrorCode._value2member_map_ else code
        self.message = message
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        """The ``error`` object of a reply frame."""
        wire: dict[str, Any] = {"code": str(self.code), "message": self.message}
        if self.data is not None:
            wire["data"] = self.data
        return wire

    @classmethod
    def from_wire(cls, error: Any) -> RpcError:
        """Rebuild an error from a reply's ``error`` object; garbage becomes ProtocolError."""
        if not isinstance(error, dict):
            raise ProtocolError("error reply is not a map")
        code, message = error.get("code"), error.get("message")
        if not isinstance(code, str) or not isinstance(message, str):
            raise ProtocolError("error reply lacks a string code and message")
        return cls(code, message, error.get("data"))

    def __repr__(self) -> str:
        return f"RpcError({str(self.code)!r}, {self.message!r})"


QUOTE_LIMIT = 80  # characters of caller-supplied input an error message may repeat


def quote_input(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` in backticks for an error message, cut to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    if not text.isprintable():  # control characters and escapes are shown, never obeyed
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) > limit:
        text = f"{text[: limit - 1]}… ({len(text)} characters)"
    return f"`{text}`"
