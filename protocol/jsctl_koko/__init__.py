"""KoKo's terminal and file WebSocket messages (the JSON envelope, sheet 7.3), sans I/O.

The one statement of the format, for both ends: the daemon writes client frames and reads
server frames; the sandbox, imitating KoKo, does the opposite. Standard library only, so the
daemon and the sandbox can both depend on it and neither on the other.

Server frames always carry every v4 key; ``data`` is always a string (structured payloads are
JSON encoded inside it). Client frames may omit keys, unknown keys are ignored, and a frame
whose ``data`` is not a string is dropped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ENVELOPE_KEYS",
    "V3_ENVELOPE_KEYS",
    "KokoMessage",
    "MessageType",
    "TerminalNews",
    "decode_client_message",
    "decode_server_message",
    "encode_client_message",
    "encode_server_message",
    "nested",
    "read_terminal_frame",
]


class MessageType(StrEnum):
    """Message ``type`` values the terminal endpoint sends or understands."""

    CONNECT = "CONNECT"
    ERROR = "ERROR"
    CLOSE = "CLOSE"
    PING = "PING"
    PONG = "PONG"
    TERMINAL_INIT = "TERMINAL_INIT"
    TERMINAL_DATA = "TERMINAL_DATA"
    TERMINAL_BINARY = "TERMINAL_BINARY"
    TERMINAL_RESIZE = "TERMINAL_RESIZE"
    TERMINAL_SESSION = "TERMINAL_SESSION"
    TERMINAL_SHARE_JOIN = "TERMINAL_SHARE_JOIN"
    TERMINAL_ERROR = "TERMINAL_ERROR"


# Every key a v4 server frame carries, with the value it has when unused.
ENVELOPE_KEYS: dict[str, Any] = {
    "id": "",
    "type": "",
    "data": "",
    "err": "",
    "raw": None,
    "prompt": "",
    "interrupt": False,
    "k8s_id": "",
    "namespace": "",
    "pod": "",
    "container": "",
    "cmd": "",
    "current_path": "",
}

V3_ENVELOPE_KEYS: dict[str, Any] = {
    key: ENVELOPE_KEYS[key] for key in ("id", "type", "data", "err")
}


@dataclass(frozen=True)
class KokoMessage:
    """One decoded client frame."""

    type: str
    id: str = ""
    data: str = ""
    err: str = ""
    raw: bytes = b""

    def json_data(self) -> Any:
        """``data`` parsed as JSON, or None when it is not valid JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def encode_server_message(
    type: str,
    *,
    id: str = "",
    data: str | dict[str, Any] | list[Any] = "",
    err: str = "",
    raw: bytes = b"",
    v3: bool = False,
) -> str:
    """A server text frame: all envelope keys, structured ``data`` JSON-encoded into a string.

    ``v3`` limits the frame to the four keys KoKo v3 sends.
    """
    frame = dict(V3_ENVELOPE_KEYS if v3 else ENVELOPE_KEYS)
    frame["id"] = id
    frame["type"] = str(type)
    frame["data"] = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    frame["err"] = err
    if not v3:
        frame["raw"] = base64.b64encode(raw).decode("ascii") if raw else None
    return json.dumps(frame, ensure_ascii=False)


def _or_empty(value: Any) -> Any:
    return "" if value is None else value


def decode_client_message(text: str) -> KokoMessage | None:
    """Parse a client text frame; None for anything KoKo would fail to decode."""
    try:
        frame = json.loads(text)
    except ValueError:
        return None
    if not isinstance(frame, dict):
        return None
    # JSON null leaves a string field empty (as Go's decoder does); other types fail.
    fields = {key: _or_empty(frame.get(key)) for key in ("id", "type", "data", "err")}
    if not all(isinstance(value, str) for value in fields.values()):
        return None
    raw_text = frame.get("raw")
    raw = b""
    if raw_text is not None:
        if not isinstance(raw_text, str):
            return None
        try:
            raw = base64.b64decode(raw_text, validate=True)
        except (binascii.Error, ValueError):
            return None
    return KokoMessage(
        type=fields["type"], id=fields["id"], data=fields["data"], err=fields["err"], raw=raw
    )


# --- the client's side (jsctl's daemon): a per-frame path, kept to one json call each way ------


def encode_client_message(msg_id: str, msg_type: str, data: str, **extra: Any) -> str:
    """One client text frame (``data`` is always a string; KoKo drops anything else)."""
    return json.dumps({"id": msg_id, "type": msg_type, "data": data, **extra})


def decode_server_message(text: str) -> dict[str, Any] | None:
    """A server text frame as a dict, or None when it is not a JSON object."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def nested(data: Any) -> Any:
    """KoKo nests structured payloads as a JSON string inside ``data``."""
    if isinstance(data, str) and data[:1] in ("{", "["):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


@dataclass(frozen=True)
class TerminalNews:
    """What one server text frame on a terminal socket says (KoKo v4/v5, sheet 7)."""

    kind: str
    closed: bool = False  # CLOSE: KoKo ended the terminal (why is in its last output)
    error: str | None = None  # ERROR: KoKo ended it and says why
    shell: bool = False  # TERMINAL_SESSION: KoKo logged in to the asset, the shell comes next
    facts: dict[str, Any] = field(default_factory=dict)  # what to keep about the terminal


# KoKo's session id and asset: what a log line or a bug report about the terminal needs. The
# user, account and permitted actions are known from the daemon's own request and directory;
# every open terminal keeps these facts for its whole life, so they stay this small.
_SESSION_KEYS = ("id", "asset")


def _session_facts(data: Any) -> dict[str, Any]:
    """The parts of TERMINAL_SESSION worth keeping per terminal (the rest is UI settings)."""
    facts: dict[str, Any] = {}
    if not isinstance(data, dict):
        return facts
    session = data.get("session")
    if isinstance(session, dict):
        facts["session"] = {k: session[k] for k in _SESSION_KEYS if k in session}
    return facts


def read_terminal_frame(text: str) -> TerminalNews | None:
    """A terminal's server text frame, interpreted; None when it is not a frame at all.

    Not the per-output path: a terminal's output comes in binary frames.
    """
    message = decode_server_message(text)
    if message is None:
        return None
    kind = str(message.get("type") or "")
    if kind == "CLOSE":
        return TerminalNews(kind, closed=True)
    if kind == "ERROR":
        return TerminalNews(kind, error=str(message.get("err") or "error"))
    if kind == "TERMINAL_SESSION":
        return TerminalNews(kind, shell=True, facts=_session_facts(nested(message.get("data"))))
    if kind in ("TERMINAL_PERM_EXPIRED", "TERMINAL_PERM_VALID"):
        return TerminalNews(kind, facts={"permission_state": kind})
    if kind in ("TERMINAL_SESSION_PAUSE", "TERMINAL_SESSION_RESUME"):
        data = nested(message.get("data"))
        paused_by = data.get("user") if isinstance(data, dict) else None
        return TerminalNews(
            kind, facts={"paused": kind == "TERMINAL_SESSION_PAUSE", "paused_by": paused_by}
        )
    return TerminalNews(kind)
