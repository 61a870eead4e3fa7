"""Password prompts in a session's output, and keeping a typed secret out of everything kept.

A session "waits for a secret" when its last line of output is a password prompt (sudo, su,
passwd, ssh key passphrases, database clients, ...). The person answers it with `jsctl secret`;
the bytes go to the remote terminal only. Programs asking for passwords turn the terminal's
echo off, but in case one does not, a SecretFilter removes the secret from the session's output
before the ring buffer, the screen, recordings or any reader see it.
"""

from __future__ import annotations

import re
import time

from ..sessions._prompts import classify, last_line

# Besides the sessions layer's "secret" prompts: a `read -s -p 'Secret: '` and the like.
_MORE = re.compile(r"(?i)\bsecret\b[^\n]{0,100}[:?]$")
HOLD_WINDOW_S = 10.0  # while the echo of a just-typed secret may still come
REDACTED = b"[secret removed]"


def prompt_of(tail: bytes) -> str | None:
    """The password prompt ``tail`` (a session's newest output) ends with, if it ends with one."""
    found = classify(tail)
    if found is not None:
        return found.text if found.kind == "secret" else None
    if not tail or tail.endswith(b"\n"):
        return None
    line = last_line(tail).strip()
    return line if line and len(line) <= 200 and _MORE.search(line) else None


_CONTROL_ONLY = re.compile(rb"^[\x00-\x08\x0b-\x1f\x7f]+$")


def is_control_only(data: bytes) -> bool:
    """Keys such as Ctrl-C, Ctrl-D or Escape: no answer to a prompt, so an agent may send them."""
    return bool(_CONTROL_ONLY.match(data))


class SecretFilter:
    """Removes a secret from a session's output (for the rest of the session).

    For a short window after the secret was typed, a chunk that ends with the secret's first
    bytes holds them back until the next chunk says whether the secret follows.
    """

    def __init__(self, secret: bytes, hold_window_s: float = HOLD_WINDOW_S) -> None:
        self._secret = secret
        self._hold_until = time.monotonic() + hold_window_s
        self._held = b""
        self.hits = 0

    def __call__(self, chunk: bytes) -> bytes:
        data = self._held + chunk
        self._held = b""
        if self._secret in data:
            self.hits += data.count(self._secret)
            data = data.replace(self._secret, REDACTED)
        if time.monotonic() < self._hold_until:
            for size in range(min(len(self._secret) - 1, len(data)), 0, -1):
                if data.endswith(self._secret[:size]):
                    data, self._held = data[:-size], data[-size:]
                    break
        return data
