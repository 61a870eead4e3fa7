"""Credential checks shared by the form login and the token API: lockouts, TOTP, messages."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyotp

from ._clock import Clock
from ._model import User
from ._sessions import Session

if TYPE_CHECKING:
    from ._directory import Directory
    from ._state import SandboxState

AUTH_EXPIRED_SECONDS = 600  # half-logged-in state
LOGIN_LIMIT_COUNT = 7
LOGIN_LIMIT_SECONDS = 30 * 60


class LoginRejected(Exception):
    """A refused login step with the server's machine code and message."""

    def __init__(self, error: str, msg: str) -> None:
        super().__init__(msg)
        self.error = error
        self.msg = msg


@dataclass
class _Counter:
    failures: int = 0
    blocked_until: float = 0.0


class LoginGuard:
    """Per-username password and MFA failure counters (7 tries, then 30 minutes locked)."""

    def __init__(self, clock: Clock, directory: Directory) -> None:
        self.clock = clock
        self.directory = directory
        self._password: dict[str, _Counter] = {}
        self._mfa: dict[str, _Counter] = {}

    def is_blocked(self, username: str) -> bool:
        """Whether the password step is locked for ``username``."""
        counter = self._password.get(username)
        return counter is not None and counter.blocked_until > self.clock.now()

    def clear(self) -> None:
        """Forget every counter and lock (control API reset)."""
        self._password.clear()
        self._mfa.clear()

    def unblock(self, username: str) -> None:
        """Clear both counters (admin unblock)."""
        self._password.pop(username, None)
        self._mfa.pop(username, None)

    def check_password(self, username: str, password: str) -> User:
        """The user if ``password`` is right; else LoginRejected with the countdown message."""
        now = self.clock.now()
        counter = self._password.setdefault(username, _Counter())
        if counter.blocked_until > now:
            raise LoginRejected(
                "block_login",
                "The account has been locked (contact an administrator to unlock it, "
                "or try again in 30 minutes)",
            )
        user = self.directory.user_by_login(username)
        if user is None or not hmac.compare_digest(user.password.encode(), password.encode()):
            counter.failures += 1
            if counter.failures >= LOGIN_LIMIT_COUNT:
                counter.blocked_until = now + LOGIN_LIMIT_SECONDS
            remaining = LOGIN_LIMIT_COUNT - counter.failures + 1
            raise LoginRejected(
                "password_failed",
                "The username or password you entered is incorrect, please enter it again. "
                f"You can also try {remaining} times (the account is locked for 30 minutes "
                "after that)",
            )
        self._password.pop(username, None)
        if not user.is_active:
            raise LoginRejected("user_inactive", "This account is inactive.")
        if user.date_expired is not None and user.date_expired <= now:
            raise LoginRejected("user_expired", "This account is expired")
        return user

    def check_mfa(self, user: User, mfa_type: str, code: str) -> None:
        """Accept a TOTP code (±2 steps, reusable) or raise mfa_failed / block_mfa."""
        now = self.clock.now()
        counter = self._mfa.setdefault(user.username, _Counter())
        if counter.blocked_until > now:
            raise LoginRejected(
                "block_mfa", "The MFA verification has been locked; try again in 30 minutes"
            )
        if mfa_type == "otp" and user.totp_secret and totp_ok(user.totp_secret, code, now):
            self._mfa.pop(user.username, None)
            return
        counter.failures += 1
        if counter.failures >= LOGIN_LIMIT_COUNT:
            counter.blocked_until = now + LOGIN_LIMIT_SECONDS
            raise LoginRejected(
                "mfa_failed", "The MFA verification has been locked; try again in 30 minutes"
            )
        remaining = LOGIN_LIMIT_COUNT - counter.failures
        raise LoginRejected(
            "mfa_failed", f"MFA code invalid, or it has expired. You can also try {remaining} times"
        )


def totp_ok(secret: str, code: str, now: float) -> bool:
    """TOTP verification with a ±2-step window on the sandbox clock."""
    when = datetime.fromtimestamp(now, UTC)
    return pyotp.TOTP(secret).verify(code.strip(), for_time=when, valid_window=2)


def mfa_choices(user: User) -> list[str]:
    """MFA types the user can use."""
    return ["otp"] if user.mfa_enabled else []


def start_half_login(session: Session, user: User, now: float) -> None:
    """Record a passed password step (MFA may still be pending)."""
    session.set("auth_user_id", user.id)
    session.set("auth_password_at", now)


def half_login_user(state: SandboxState, session: Session) -> User | None:
    """The user whose password step passed in this session within the last 600 s."""
    user_id = session.get("auth_user_id")
    started = session.get("auth_password_at")
    if not user_id or started is None:
        return None
    if state.clock.now() - float(started) > AUTH_EXPIRED_SECONDS:
        return None
    return state.directory.users.get(user_id)


def mfa_passed(session: Session, user: User) -> bool:
    """Whether this session already passed MFA for ``user`` (or none is needed)."""
    if user.mfa_unset:
        return False  # forced but nothing bound: the token API answers choices []
    return not user.mfa_enabled or session.get("auth_mfa") == user.username
