"""Django-like server-side sessions with sliding expiry on the sandbox clock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from ._clock import Clock

TOKEN_SESSION_AGE = 600  # the session the token API creates lives 10 minutes


@dataclass
class Session:
    """One session: its data, cookie age and when it was last saved."""

    key: str | None
    age: int
    data: dict[str, Any] = field(default_factory=dict)
    saved_at: float = 0.0
    modified: bool = False
    had_cookie: bool = False  # the request carried a cookie for this session (or a stale one)
    cycled: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        """A value from the session data."""
        return self.data.get(name, default)

    def set(self, name: str, value: Any) -> None:
        """Store a value and mark the session for saving."""
        self.data[name] = value
        self.modified = True

    def pop(self, name: str) -> Any:
        """Remove a value (if present) and mark the session for saving."""
        self.modified = True
        return self.data.pop(name, None)

    def flush(self) -> None:
        """Forget all data and the key (logout); the old key dies when the session is saved."""
        self.data = {}
        self.cycled = True
        self.modified = True

    def cycle_key(self) -> None:
        """Keep the data under a new key (done at login against fixation)."""
        self.cycled = True
        self.modified = True


class SessionStore:
    """All live sessions, keyed by session id."""

    def __init__(self, clock: Clock, default_age: int) -> None:
        self.clock = clock
        self.default_age = default_age
        self._sessions: dict[str, Session] = {}

    def load(self, key: str | None) -> Session:
        """The live session for a cookie value, or a fresh unsaved one."""
        if key:
            stored = self._sessions.get(key)
            if stored is not None and self.clock.now() < stored.saved_at + stored.age:
                return Session(key, stored.age, dict(stored.data), stored.saved_at, had_cookie=True)
            self._sessions.pop(key, None)
        return Session(None, self.default_age, had_cookie=bool(key))

    def save(self, session: Session) -> str:
        """Persist ``session`` (new key if needed or cycled) and return its key."""
        old_key = session.key
        if old_key is None or session.cycled:
            if old_key is not None:
                self._sessions.pop(old_key, None)
            session.key = secrets.token_hex(16)
            session.cycled = False
        session.saved_at = self.clock.now()
        assert session.key is not None
        self._sessions[session.key] = Session(
            session.key, session.age, dict(session.data), session.saved_at
        )
        return session.key

    def delete(self, key: str | None) -> None:
        """Drop a session."""
        if key:
            self._sessions.pop(key, None)

    def restore(self, session: Session) -> None:
        """Put back a session saved by an earlier run (persistent sandbox)."""
        assert session.key is not None
        self._sessions[session.key] = session

    def live(self) -> list[Session]:
        """Every session that has not expired yet."""
        now = self.clock.now()
        return [s for s in self._sessions.values() if now < s.saved_at + s.age]

    def expire_all(self) -> int:
        """Drop every session (control API); returns how many were live."""
        count = len(self._sessions)
        self._sessions.clear()
        return count
