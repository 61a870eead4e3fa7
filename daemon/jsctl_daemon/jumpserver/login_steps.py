"""What the web login needs next: the steps :class:`~.web_login.WebLogin` hands the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LoggedIn",
    "NeedCaptcha",
    "NeedMfaChoice",
    "NeedMfaCode",
    "NeedPassword",
    "Step",
    "WaitingReview",
]


@dataclass(frozen=True)
class NeedPassword:
    """Answer with ``password=``."""


@dataclass(frozen=True)
class NeedCaptcha:
    """Answer with ``captcha=`` (the result of the math shown in the PNG)."""

    image_png: bytes = field(repr=False)
    key: str = ""  # the challenge id (captcha_0); only needed by tests and tools
    error: str | None = None  # why the previous answer was refused, in the server's words


@dataclass(frozen=True)
class NeedMfaChoice:
    """Answer with ``mfa_type=`` (one of ``choices``, e.g. ``otp``, ``sms``, ``email``)."""

    choices: tuple[str, ...]


@dataclass(frozen=True)
class NeedMfaCode:
    """Answer with ``code=`` for ``mfa_type`` (for sms/email the code was just sent)."""

    mfa_type: str


@dataclass(frozen=True)
class WaitingReview:
    """An administrator must approve this login; call ``answer()`` again to poll."""

    ticket_id: str
    poll_interval: float = 3.0


@dataclass(frozen=True)
class LoggedIn:
    """The web session is live; ``profile`` is the ``/api/v1/users/profile/`` body."""

    username: str
    profile: dict[str, Any] = field(repr=False)


Step = NeedPassword | NeedCaptcha | NeedMfaChoice | NeedMfaCode | WaitingReview | LoggedIn
