"""Does the end of a command's output look like it waits for an answer? (pure, no I/O)

Shared by whatever reports a run as waiting: ``waiting_input`` for runs, and the secrets work,
which treats the ``secret`` kind (password, passphrase) as ``waiting_secret``. Only the last
line of output counts, after terminal escapes are removed, and only once output has paused —
the caller decides the pause.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_ESCAPES = re.compile(
    rb"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, our markers)
    rb"|\x1b\[[0-9;?<=>]*[ -/]*[@-~]"  # CSI (colours, cursor moves)
    rb"|\x1b[()][0-9A-Za-z]|\x1b[=>78NOMDEHc]"  # charsets and short escapes
)
_MAX_PROMPT = 200

# (kind, pattern over the last line, stripped of trailing blanks), first match wins.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "secret",
        re.compile(
            r"(?i)(?:password|passphrase|passcode|pass phrase|\bpin\b|verification code|otp)"
            r"[^\n]{0,80}[:?]$"
        ),
    ),
    (
        "confirm",
        re.compile(
            r"(?i)(?:\[(?:y/n|yes/no)[^\]]{0,20}\]|\((?:y/n|yes/no)[^)]{0,40}\))\s*[?:]?$"
            r"|(?:continue|proceed|overwrite|remove|delete)[^\n]{0,80}\?$"
        ),
    ),
    ("pager", re.compile(r"^(?:\(END\)|--More--.*|:|lines \d+-\d+.*|\(press RETURN\))$")),
    (
        "key",
        re.compile(r"(?i)(?:press (?:any key|enter|return)|hit (?:enter|return|any key))[^\n]*$"),
    ),
)


class Prompt(NamedTuple):
    """A prompt found at the end of output: its kind and its text as a person sees it."""

    kind: str  # "secret", "confirm", "pager" or "key"
    text: str


def last_line(tail: bytes) -> str:
    """The last line of ``tail`` as shown on a terminal (escapes removed, CR rewrites applied)."""
    plain = _ESCAPES.sub(b"", tail).decode("utf-8", "replace")
    line = plain.rstrip("\r\n").rsplit("\n", 1)[-1]
    line = line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
    shown: list[str] = []
    for ch in line:
        if ch == "\b":  # line editors erase by backing up (then clearing to the line's end)
            if shown:
                shown.pop()
        elif ch >= " " or ch == "\t":
            shown.append(ch)
    return "".join(shown)


def classify(tail: bytes) -> Prompt | None:
    """The prompt that ``tail`` (the last few hundred bytes of output) ends with, if any.

    A prompt ends the output without a newline after it ("Password: ", "[y/N] "), except a
    pager's status line, which may be followed by cursor moves only.
    """
    if not tail or (tail.endswith(b"\n") and not tail.rstrip().endswith((b"(END)", b"--More--"))):
        return None
    line = last_line(tail).strip()
    if not line:
        return None
    for kind, pattern in _PATTERNS:
        if pattern.search(line):
            return Prompt(kind, line[-_MAX_PROMPT:])
    return None
