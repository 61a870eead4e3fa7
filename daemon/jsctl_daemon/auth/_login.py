"""Logins in progress: each wraps one WebLogin and answers what it needs next, on the wire."""

from __future__ import annotations

import secrets
import time
from typing import Any

from ..jumpserver import Connection, ServerConfig, WebLogin
from ..jumpserver.login_steps import (
    LoggedIn,
    NeedCaptcha,
    NeedMfaChoice,
    NeedMfaCode,
    NeedPassword,
    Step,
    WaitingReview,
)

LOGIN_TTL_S = 15 * 60  # a login nobody answers is dropped after this


class PendingLogin:
    """One `jsctl login` conversation, tied to the client connection that started it."""

    def __init__(self, profile: str, config: ServerConfig, username: str, owner: int) -> None:
        self.id = secrets.token_urlsafe(12)
        self.profile = profile
        self.username = username
        self.owner = owner  # client connection number: its departure cancels the login
        self.started = time.monotonic()
        self.connection = Connection(config)
        self.flow = WebLogin(self.connection, username)

    @property
    def expired(self) -> bool:
        """Whether nobody answered for too long."""
        return time.monotonic() - self.started > LOGIN_TTL_S

    async def aclose(self) -> None:
        """Forget the flow's secrets and close its HTTP client."""
        await self.flow.cancel()
        await self.connection.aclose()


def step_to_wire(login_id: str, step: Step) -> dict[str, Any]:
    """What the CLI needs to prompt for ``step`` (never any secret)."""
    wire: dict[str, Any] = {"login_id": login_id}
    if isinstance(step, NeedPassword):
        wire["step"] = "password"
    elif isinstance(step, NeedCaptcha):
        wire.update(step="captcha", image_png=step.image_png, error=step.error)
    elif isinstance(step, NeedMfaChoice):
        wire.update(step="mfa_choice", choices=list(step.choices))
    elif isinstance(step, NeedMfaCode):
        wire.update(step="mfa_code", mfa_type=step.mfa_type)
    elif isinstance(step, WaitingReview):
        wire.update(step="review", ticket_id=step.ticket_id, poll_interval=step.poll_interval)
    elif isinstance(step, LoggedIn):
        wire.update(step="done", username=step.username)
    return wire
