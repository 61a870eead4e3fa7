"""Everything that can go wrong talking to JumpServer, as exceptions a person can act on.

Each exception's ``str()`` is a complete sentence for the user. Callers that know which
profile a request belonged to call :meth:`JumpServerError.for_profile` so messages can
name it ("the JumpServer login for profile `work` has expired — run `jsctl login`").
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Self

from jsctl_daemon.terminal import TerminalClosed, TerminalEnded, TerminalLost

if TYPE_CHECKING:
    from jsctl_daemon.jumpserver.login_steps import Step

__all__ = [
    "AccessKeyLimit",
    "AccessKeyRevoked",
    "AuthFailed",
    "BadResponse",
    "ConfirmRequired",
    "InvalidRequest",
    "JumpServerError",
    "KokoUnreachable",
    "LoginRequired",
    "NotAJumpServer",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "TLSFailure",
    "TerminalClosed",
    "TerminalEnded",
    "TerminalLost",
    "TerminalRefused",
    "Unreachable",
]


class JumpServerError(Exception):
    """Base class: a problem with the JumpServer side, described for a person."""

    profile: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def for_profile(self, profile: str) -> Self:
        """Attach the profile name the failing request belonged to (used in messages)."""
        self.profile = profile
        return self

    def __str__(self) -> str:
        return self.message


class LoginRequired(JumpServerError):
    """The web session or access key is gone; a person must run ``jsctl login`` again."""

    def __init__(self, reason: str = "has expired") -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        who = f" for profile `{self.profile}`" if self.profile else ""
        login = f"jsctl login --profile {self.profile}" if self.profile else "jsctl login"
        return f"the JumpServer login{who} {self.reason} — run `{login}`"


class AccessKeyRevoked(LoginRequired):
    """JumpServer refuses the profile's access key (revoked: deleted or disabled on the server)
    and the web session cannot stand in for it."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"lost its access key: JumpServer refuses it ({detail or 'Invalid signature.'} — the "
            "key was revoked on the server) and the web session has expired too"
        )
        self.detail = detail


class AuthFailed(JumpServerError):
    """JumpServer refused a login step; ``code`` is its machine code (e.g. ``password_failed``)."""

    def __init__(self, code: str, message: str) -> None:
        message = server_text(message)
        super().__init__(f"JumpServer refused the login: {message}")
        self.code = code
        self.server_message = message
        self.retry: Step | None = None

    def with_retry(self, step: Step) -> Self:
        """Mark the failure as retryable by answering ``step`` again."""
        self.retry = step
        return self


class ConfirmRequired(JumpServerError):
    """JumpServer wants the user to re-confirm (412 ``user_confirm_required``) before acting."""

    def __init__(self, level: str) -> None:
        super().__init__(
            f"JumpServer requires a fresh {level} confirmation for this action — "
            "run `jsctl login` again"
        )
        self.level = level


class PermissionDenied(JumpServerError):
    """Authenticated, but JumpServer does not allow this action (403)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"JumpServer denied the request: {detail}")
        self.detail = detail


class NotFound(JumpServerError):
    """The object does not exist or is not visible to this user (404)."""

    def __init__(self, what: str, detail: str = "") -> None:
        text = f"not found on JumpServer: {what}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.what = what
        self.detail = detail


class InvalidRequest(JumpServerError):
    """JumpServer rejected the request's content (400); ``code`` when it gave one."""

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(f"JumpServer rejected the request: {detail}")
        self.detail = detail
        self.code = code


class AccessKeyLimit(InvalidRequest):
    """The user already has the maximum number of access keys (10)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="access_key_limit")
        self.message = (
            f"JumpServer would not create another access key ({detail}) — delete unused "
            "ones under Profile → API keys in the JumpServer web UI, then log in again"
        )


class RateLimited(JumpServerError):
    """JumpServer throttled us (429) and retrying within our budget did not help."""

    def __init__(self, retry_after: float | None) -> None:
        wait = f"; it asks to wait {retry_after:g} s" if retry_after is not None else ""
        super().__init__(f"JumpServer is rate-limiting requests{wait} — try again shortly")
        self.retry_after = retry_after


class ServerError(JumpServerError):
    """JumpServer failed with a 5xx status."""

    def __init__(self, status: int, where: str, hint: str = "") -> None:
        text = f"JumpServer failed with HTTP {status} at {where}"
        super().__init__(f"{text}; {hint}" if hint else text)
        self.status = status
        self.where = where


class BadResponse(JumpServerError):
    """JumpServer answered something we could not understand (garbage body, odd redirect)."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"unexpected answer from JumpServer at {where}: {why}")
        self.where = where
        self.why = why


class NotAJumpServer(JumpServerError):
    """The URL answers, but not like a JumpServer."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"{url} does not look like a JumpServer ({why}) — check the URL")
        self.url = url
        self.why = why


class TLSFailure(JumpServerError):
    """The TLS handshake failed (usually an untrusted or mismatched certificate)."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(
            f"TLS with {url} failed: {why} — if the site uses a private CA pass its "
            "certificate with --ca-file (or, only if you accept the risk, --insecure)"
        )
        self.url = url
        self.why = why


class Unreachable(JumpServerError):
    """No connection could be made (DNS, refused, timeout, reset)."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"cannot reach JumpServer at {url}: {why}")
        self.url = url
        self.why = why


def server_text(text: str) -> str:
    """A message as JumpServer/KoKo wrote it, minus the decoration a person need not see
    (KoKo starts many of its messages with ``* ``)."""
    text = text.strip()
    while text.startswith("*"):
        text = text[1:].lstrip()
    return text


class TerminalRefused(JumpServerError):
    """KoKo would not start the terminal (ERROR before CONNECT, or it never answered)."""

    def __init__(self, why: str) -> None:
        why = server_text(why)
        super().__init__(f"KoKo refused the terminal: {why}")
        self.why = why


class KokoUnreachable(TerminalRefused):
    """/koko/ does not reach KoKo: the core itself answered (404 page, 500 `No route found`)."""

    def __init__(self, status: int, base_path: str = "") -> None:
        JumpServerError.__init__(
            self,
            f"KoKo is not reachable under {base_path}/koko/ on this JumpServer (the WebSocket "
            f"upgrade got HTTP {status} from the core, not from KoKo): KoKo is not running or the "
            "web proxy does not route /koko/ to it — run `jsctl doctor`",
        )
        self.why = f"HTTP {status}"
        self.status = status


def ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error somewhere in ``exc``'s chain of causes, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
