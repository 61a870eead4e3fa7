"""One profile's live auth state: credentials, the HTTP connection, and what we know of it."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import trio

from ..jumpserver import Connection, Credentials, JumpServerAPI
from ..jumpserver.errors import JumpServerError, LoginRequired
from ._koko import KokoAuthCache


class ProfileState:
    """A logged-in (or once logged-in) profile as the daemon holds it."""

    def __init__(self, name: str, credentials: Credentials) -> None:
        self.name = name
        self.credentials = credentials
        self._connection: Connection | None = None
        self.web_session_ok: bool | None = None  # None: not probed yet
        self.web_checked_at = 0.0
        self.web_lost_reason = ""
        self.user: dict[str, Any] = {}
        self.lock = trio.Lock()  # serialises probes and cookie persistence
        self.koko_auth = KokoAuthCache()  # whether KoKo takes the access key (v5)

    @property
    def connection(self) -> Connection:
        """The profile's HTTP client (cookies + access key), created on first use."""
        if self._connection is None:
            self._connection = self.credentials.connection()
        return self._connection

    @property
    def api(self) -> JumpServerAPI:
        """Typed REST calls on the profile's connection."""
        return JumpServerAPI(self.connection)

    def cookies_changed(self) -> bool:
        """Whether the jar differs from what was last persisted (the server slid the cookie)."""
        return self.connection.export_cookies() != self.credentials.cookies

    def web_session_expires_at(self) -> float | None:
        """When the session cookie expires, as the server last told us (sliding)."""
        name = self.connection.session_cookie_name
        for cookie in self.connection.cookies.jar:
            if cookie.name == name and cookie.expires:
                return float(cookie.expires)
        return None

    def mark_web_session(self, ok: bool, reason: str = "") -> None:
        """Record the outcome of a web-session probe."""
        self.web_session_ok = ok
        self.web_checked_at = time.time()
        self.web_lost_reason = "" if ok else reason or "has expired"

    def require_web_session(self) -> None:
        """Raise LoginRequired if the web session is known to be gone."""
        if self.web_session_ok is False:
            raise LoginRequired(self.web_lost_reason).for_profile(self.name)

    def tagged(self) -> _Tagged:
        """Attach this profile's name to JumpServer errors raised inside."""
        return _Tagged(self.name)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._connection is not None:
            await self._connection.aclose()
            self._connection = None


class _Tagged:
    """``ProfileState.tagged()``: a plain object, not a generator, as every open terminal
    holds one for its whole life (a generator context manager costs ~0.5 KiB)."""

    __slots__ = ("_profile",)

    def __init__(self, profile: str) -> None:
        self._profile = profile

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, JumpServerError):
            exc.for_profile(self._profile)
