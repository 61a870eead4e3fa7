"""Who a session's shell runs as now: verified by a probe after anything that may change it.

Typing `sudo -i`, `su - postgres`, `exit` (or answering their password prompt) may change the
remote user. The prompt may say so, or lie; so once the session is quiet again, at a shell
and not at a password prompt, the daemon runs `id -un; hostname` there itself and believes that.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

CHANGERS = re.compile(r"\b(sudo|su|exit|logout|doas|runuser|machinectl|ssh|newgrp|sg|login)\b|\x04")
PROBE = "id -un; hostname"
PROBE_OWNER = "jsctl (identity probe)"


@dataclass
class RemoteIdentity:
    """A session's effective remote user and host, and how it got there."""

    login_user: str
    login_host: str
    user: str
    host: str
    via: str | None = None  # the typed command that changed it
    verified_at: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the shell no longer runs as the account it logged in with."""
        return self.user != self.login_user or self.host != self.login_host

    def text(self, asset: str) -> str:
        """`deploy@web-01 → root (sudo)`, or `deploy@web-01` when unchanged."""
        start = f"{self.login_user}@{asset}"
        if not self.changed:
            return start
        where = self.user if self.host == self.login_host else f"{self.user}@{self.host}"
        return f"{start} → {where}" + (f" ({self.via})" if self.via else "")


def may_change_identity(data: bytes) -> str | None:
    """The word of typed input that may change the remote user (None if nothing may)."""
    text = data.decode("utf-8", "replace")
    if "\x04" in text:
        return "Ctrl-D"
    if "\r" not in text and "\n" not in text:
        return None
    match = CHANGERS.search(text)
    return match.group(1) if match else None


def parse_probe(output: bytes) -> tuple[str, str] | None:
    """(user, host) from the probe's output, if it looks right."""
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    if len(lines) < 2 or " " in lines[-2] or " " in lines[-1]:
        return None
    return lines[-2], lines[-1]


def fresh(login_user: str, login_host: str) -> RemoteIdentity:
    """The identity a session starts with (the account it logged in as)."""
    return RemoteIdentity(login_user, login_host, login_user, login_host, None, time.time())


_SHELL_PROMPT = re.compile(rb"[$#%>]\s?$")
_ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


def at_shell_prompt(tail: bytes) -> bool:
    """Whether the newest output ends like a shell prompt (so typing a probe is safe)."""
    return bool(_SHELL_PROMPT.search(_ANSI.sub(b"", tail).rstrip(b"\r\n")[-200:]))
