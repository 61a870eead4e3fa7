"""Terminal bytes made fit for a model: ANSI removed, carriage returns resolved, cut safely.

A page never ends inside a UTF-8 character or an escape sequence: the unfinished tail is left for
the next read (its offset says where), so nothing is lost between pages.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other two-byte escapes, and lone C1 CSI.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[PX^_][^\x1b]*\x1b\\"
    r"|\x1b[()][0-9A-Za-z]"
    r"|\x1b[@-Z\\-_=>78]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The longest escape we hold back when a page ends inside one (longer ones are plain garbage).
_MAX_ESCAPE = 256


def safe_cut(data: bytes) -> int:
    """How many leading bytes of ``data`` end on a character and escape-sequence boundary."""
    end = len(data)
    for back in range(1, min(4, end) + 1):  # an unfinished UTF-8 character: back up to its lead
        byte = data[end - back]
        if byte & 0xC0 == 0x80:
            continue
        if byte >= 0xC0 and back < (2 if byte < 0xE0 else 3 if byte < 0xF0 else 4):
            end -= back
        break
    escape = data.rfind(b"\x1b", max(0, end - _MAX_ESCAPE), end)
    if escape != -1 and not _escape_finished(data[escape:end]):
        end = escape
    return end


def _escape_finished(tail: bytes) -> bool:
    """True unless ``tail`` (starting at ESC) is an escape sequence cut short."""
    kind = tail[1:2]
    if not kind:
        return False
    if kind == b"[":
        return any(0x40 <= byte <= 0x7E for byte in tail[2:])
    if kind in (b"]", b"P", b"X", b"^", b"_"):
        return b"\x07" in tail or b"\x1b\\" in tail[1:]
    if kind in (b"(", b")"):
        return len(tail) >= 3
    return True


def clean(data: bytes) -> str:
    """Terminal output as plain text: no escapes, CRLF as LF, overwritten line starts dropped."""
    text = data.decode("utf-8", errors="replace")
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            # A progress bar redraws its line after CR: keep what a person would finally see.
            parts = [part for part in line.split("\r") if part]
            line = parts[-1] if parts else ""
        lines.append(_apply_backspaces(_CONTROL.sub(_keep_backspace, line)))
    return "\n".join(lines)


def _keep_backspace(match: re.Match[str]) -> str:
    return "\b" if match.group() == "\b" else ""


def _apply_backspaces(line: str) -> str:
    if "\b" not in line:
        return line
    out: list[str] = []
    for char in line:
        if char == "\b":
            if out:
                out.pop()
        else:
            out.append(char)
    return "".join(out)
