"""What KoKo says in the terminal about a session's start and end (sheet 7.6, KoKo v4.10.15).

KoKo gives the reason a session ended only as terminal output before CLOSE: a red notice,
exactly ``"\\n\\r" ESC[31m <text> "\\n\\r" ESC[0m`` (``switch.go`` ``disconnection``) for the idle
limit, the maximum session time, an expired permission or an administrator's kill; or
``Connecting to <account>@<address> error: <reason>`` when it could not log in to the asset
(``server.go`` ``sendConnectErrorMsg``). Before the shell relays, KoKo may ask in the terminal
for a password (``<account>'s password: ``) or keyboard-interactive answers.
"""

from __future__ import annotations

import re

__all__ = ["NoticeTail", "closing_reason", "prompt_in"]

_TAIL = 2048  # the notice is the last thing before CLOSE; keep a little more than one line
_RED = re.compile(rb"\x1b\[31m([^\x1b]*?)\s*\x1b\[0m")
_CONNECT_ERROR = re.compile(rb"(Connecting to [^\r\n]*? error: [^\r\n]*)")
# A prompt is the last line (after the last CR, LF or backspace, before at most one final LF)
# ending in `:` or `?` and at most one space, with one of these words before that mark.
_PROMPT_WORDS = (
    b"password",
    b"passphrase",
    b"passcode",
    b"verification",
    b"code",
    b"otp",
    b"token",
)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").strip()


def closing_reason(tail: bytes) -> str:
    """Why KoKo ended the session, from the output just before its CLOSE."""
    red = _RED.findall(tail)
    if red and _text(red[-1]):
        return f"KoKo ended the session: {_text(red[-1])}"
    failed = _CONNECT_ERROR.findall(tail)
    if failed:
        return f"KoKo could not connect to the asset: {_text(failed[-1])}"
    return "the remote session ended"


def prompt_in(tail: bytes) -> str | None:
    """The secret KoKo is asking for at the end of the output, if it is asking.

    Looks at the last line only: a regular expression searched over the whole tail backtracked
    through it (~20 us for a prompt line, 2 ms for 2 KiB of lines, 0.2 s for one 2 KiB line),
    and it runs on every output chunk before the shell starts.
    """
    stop = len(tail) - 1 if tail.endswith(b"\n") else len(tail)
    start = max(
        tail.rfind(b"\r", 0, stop), tail.rfind(b"\n", 0, stop), tail.rfind(b"\x08", 0, stop)
    )
    line = tail[start + 1 : stop]
    if line.endswith(b" "):
        line = line[:-1]
    if not line.endswith((b":", b"?")):
        return None
    words = line[:-1].lower()
    return _text(line) if any(word in words for word in _PROMPT_WORDS) else None


class NoticeTail:
    """The last couple of KiB of a terminal's output (cheap: one slice per large chunk)."""

    def __init__(self) -> None:
        self.data = b""

    def feed(self, chunk: bytes) -> None:
        """Remember the end of the output."""
        if len(chunk) >= _TAIL:
            self.data = chunk[-_TAIL:]
        else:
            self.data = (self.data + chunk)[-_TAIL:]

    def reason(self) -> str:
        """Why the session ended (see :func:`closing_reason`)."""
        return closing_reason(self.data)
