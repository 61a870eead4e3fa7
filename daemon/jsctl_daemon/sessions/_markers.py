"""Exec markers: the shell line that wraps a command, and a scanner that finds the markers.

The shell prints each marker with ``printf`` from octal escapes, so the echoed command line
(which shows ``\\033`` as four characters) can never look like the marker itself. Markers are
OSC sequences (``ESC ] 7391 ; ... BEL``) that terminals and pyte ignore, so a person watching
the session sees the command and its output, not marker noise. Everything injected is POSIX
sh, so bash, zsh and dash all run it.
"""

from __future__ import annotations

import re
import secrets
from enum import Enum
from typing import NamedTuple

_OSC_PREFIX = b"\x1b]7391;"
_TOKEN_LEN = 12  # hex digits; the scanner accepts [a-z0-9] so older tokens still match
_MARKER = re.compile(rb"\x1b\]7391;([BEPSQX])([a-z0-9]{12})(?:;([0-9]{1,3}))?\x07")
# What may follow the OSC prefix in a marker that has not fully arrived yet.
_PARTIAL_TAIL = re.compile(rb"(?:[BEPSQX](?:[a-z0-9]{0,11}|[a-z0-9]{12}(?:;[0-9]{0,3})?)?)?")
_MAX_MARKER_LEN = len(_OSC_PREFIX) + 1 + _TOKEN_LEN + 4 + 1
# Physical lines we type stay well under the 4 KiB canonical-mode line limit of a tty.
_MAX_TYPED_LINE = 1000
_PLAIN = re.compile(r"[\x20-\x26\x28-\x7e]*")  # printable ASCII but the single quote


class MarkerKind(Enum):
    """Which marker the shell printed."""

    BEGIN = "B"  # the command starts right after this marker
    END = "E"  # the command ended; carries its exit status
    PROBE = "P"  # answer to a probe line; carries the status of the last command
    STDERR = "S"  # the command's standard output ended; its standard error follows
    QUIT = "Q"  # the shell running the command is exiting (`exit`, `set -e`); carries the status
    REPLACED = "X"  # a session's guard loop saw its shell end (status) and starts a new one


_KINDS = {kind.value.encode(): kind for kind in MarkerKind}


class Marker(NamedTuple):
    """A marker found in the output stream, with its absolute byte range."""

    kind: MarkerKind
    token: str
    status: int | None
    start: int
    end: int


def new_token() -> str:
    """A fresh random marker token (one read of the system's random source, not one per digit)."""
    return secrets.token_hex(_TOKEN_LEN // 2)


def printf_marker(kind: MarkerKind, token: str, status: str | None = None) -> str:
    """A printf of the marker; ``status`` is the shell word with the exit status to report."""
    if status is not None:
        return f"printf '\\033]7391;{kind.value}%s;%d\\007' {token} \"{status}\""
    return f"printf '\\033]7391;{kind.value}%s\\007' {token}"


def _octal_printf(raw: bytes) -> str:
    escaped = "".join(f"\\{byte:03o}" for byte in raw)
    return f"'\"$(printf '{escaped}')\"'"


def quote_for_shell(command: str) -> str:
    """``command`` as one single-quoted POSIX sh word that is safe to type into a terminal.

    Control characters and non-ASCII bytes would be taken as keystrokes (Ctrl-C, Tab completion,
    meta keys), so they are produced by ``printf`` instead of being typed; long lines are folded
    with backslash-newline outside the quotes, which the shell removes.
    """
    if len(command) <= _MAX_TYPED_LINE and _PLAIN.fullmatch(command):
        return f"'{command}'"  # the usual short command: nothing to escape or fold
    out: list[str] = ["'"]
    line_len = 0
    raw = command.encode("utf-8")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x0A:
            out.append("\n")
            line_len = 0
            i += 1
            continue
        if byte < 0x20 or byte >= 0x7F:
            j = i
            while j < len(raw) and (raw[j] < 0x20 or raw[j] >= 0x7F) and raw[j] != 0x0A:
                j += 1
            piece = _octal_printf(raw[i:j])
            i = j
        else:
            piece = "'\\''" if byte == 0x27 else chr(byte)
            i += 1
        if line_len + len(piece) > _MAX_TYPED_LINE:
            out.append("'\\\n'")
            line_len = 1
        out.append(piece)
        line_len += len(piece)
    out.append("'")
    return "".join(out)


def _partial_marker_start(data: bytes) -> int | None:
    """Index where a marker that has only partly arrived starts at the end of ``data``."""
    search_from = max(0, len(data) - _MAX_MARKER_LEN)
    i = data.find(b"\x1b", search_from)
    while i != -1:
        tail = data[i:]
        if len(tail) <= len(_OSC_PREFIX):
            if _OSC_PREFIX.startswith(tail):
                return i
        elif tail.startswith(_OSC_PREFIX) and _PARTIAL_TAIL.fullmatch(tail, len(_OSC_PREFIX)):
            return i
        i = data.find(b"\x1b", i + 1)
    return None


class MarkerScanner:
    """Finds markers in a byte stream fed chunk by chunk, including markers split across chunks."""

    __slots__ = (
        "_carry",
        "_carry_start",
        "_safe_end",
    )

    def __init__(self, offset: int) -> None:
        self._carry = b""  # tail of the last chunk that may be the start of a marker
        self._carry_start = offset
        self._safe_end = offset

    @property
    def safe_end(self) -> int:
        """Offset up to which the stream is known not to hold the start of a pending marker."""
        return self._safe_end

    def feed(self, chunk: bytes, chunk_offset: int) -> list[Marker]:
        """Scan ``chunk`` (starting at absolute ``chunk_offset``); return the complete markers."""
        if chunk_offset != self._carry_start + len(self._carry):
            # A gap (should not happen: the scanner sees every chunk); resynchronise.
            self._carry = b""
            self._carry_start = chunk_offset
        data = self._carry + chunk
        base = self._carry_start
        found = [
            Marker(
                _KINDS[kind],
                token.decode(),
                None if status is None else int(status),
                base + m.start(),
                base + m.end(),
            )
            for m in _MARKER.finditer(data)
            for kind, token, status in (m.groups(),)
        ]
        scan_from = found[-1].end - base if found else 0
        partial = _partial_marker_start(data[scan_from:])
        keep_from = len(data) if partial is None else scan_from + partial
        self._carry = data[keep_from:]
        self._carry_start = base + keep_from
        self._safe_end = self._carry_start
        return found

    def flush(self) -> int:
        """The stream ended: nothing is pending any more; returns the final offset."""
        self._safe_end = self._carry_start + len(self._carry)
        self._carry_start = self._safe_end
        self._carry = b""
        return self._safe_end
