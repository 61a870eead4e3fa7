"""Watch links: the person hands another local client one read-only look at a session.

A link is one-time and expires. Only its digest is kept: the token itself is never kept, logged
or audited, and a daemon restart forgets every link (its sessions are gone too).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from jsctl_protocol._methods_sessions import WATCH_LINK_PREFIX

DEFAULT_SHARE_S = 600.0


@dataclass(frozen=True)
class Share:
    """What one link shows, until when, and who made it."""

    session_id: str
    expires_at: float
    by: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_watch_link(ref: str) -> bool:
    """Whether ``ref`` is a watch link rather than a session's id or name."""
    return ref.startswith(WATCH_LINK_PREFIX)


class WatchLinks:
    """The daemon's live watch links, by digest."""

    def __init__(self) -> None:
        self._shares: dict[str, Share] = {}

    def _drop_expired(self) -> None:
        now = time.time()
        for key in [key for key, share in self._shares.items() if share.expires_at <= now]:
            del self._shares[key]

    def mint(self, session_id: str, expires_in: float, by: str) -> tuple[str, float]:
        """A new link to ``session_id``: the token (shown once) and when it expires."""
        self._drop_expired()
        token = WATCH_LINK_PREFIX + secrets.token_urlsafe(24)
        expires_at = time.time() + expires_in
        self._shares[_digest(token)] = Share(session_id, expires_at, by)
        return token, expires_at

    def spend(self, token: str) -> Share | None:
        """What the link shows, spending it; None when it is unknown, used or expired."""
        self._drop_expired()
        return self._shares.pop(_digest(token), None)
