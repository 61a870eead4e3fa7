"""The one place that says which RPC error code each domain error becomes.

Domains (sessions, files, directory, auth, consent, policy, fleets, the session index, the
JumpServer client) raise errors in their own terms; this table turns them into replies.
"""

from __future__ import annotations

from jsctl_protocol import ErrorCode

from . import auth, consent, directory, files, policy, sessions
from .config import ConfigError
from .errors import DomainError
from .fleet import UnknownFleet
from .jumpserver import errors as js
from .session_index import LostSession
from .storage import StateCorrupt
from .translate import register_error

# Most specific first: the first type an error is an instance of decides its code.
ERROR_CODES: tuple[tuple[type[Exception], ErrorCode], ...] = (
    (js.LoginRequired, ErrorCode.LOGIN_REQUIRED),
    (js.ConfirmRequired, ErrorCode.LOGIN_REQUIRED),
    (js.PermissionDenied, ErrorCode.FORBIDDEN),
    (js.NotFound, ErrorCode.NOT_FOUND),
    (js.Unreachable, ErrorCode.UNREACHABLE),
    (js.TLSFailure, ErrorCode.UNREACHABLE),
    (js.NotAJumpServer, ErrorCode.UNREACHABLE),
    (js.TerminalEnded, ErrorCode.SESSION_ENDED),
    (js.JumpServerError, ErrorCode.REMOTE),
    (sessions.UnknownSession, ErrorCode.NOT_FOUND),
    (sessions.UnknownRun, ErrorCode.NOT_FOUND),
    (sessions.SessionLimitReached, ErrorCode.LIMIT),
    (sessions.SessionEnded, ErrorCode.SESSION_ENDED),
    (sessions.SessionBusy, ErrorCode.CONFLICT),
    (sessions.SessionNotReady, ErrorCode.CONFLICT),
    (sessions.NameTaken, ErrorCode.CONFLICT),
    (sessions.InvalidName, ErrorCode.BAD_PARAMS),
    (sessions.InvalidOffset, ErrorCode.BAD_PARAMS),
    (sessions.SessionError, ErrorCode.FORBIDDEN),
    (LostSession, ErrorCode.SESSION_ENDED),
    (files.FileNotFound, ErrorCode.NOT_FOUND),
    (files.FileExists, ErrorCode.CONFLICT),
    (files.FilePermissionDenied, ErrorCode.FORBIDDEN),
    (files.UnsafeOperation, ErrorCode.BAD_PARAMS),
    (files.FileSessionLimit, ErrorCode.LIMIT),
    (files.FileSessionLost, ErrorCode.SESSION_ENDED),
    (files.FileError, ErrorCode.REMOTE),
    (directory.NotInDirectory, ErrorCode.NOT_FOUND),
    (directory.OutsideAllowList, ErrorCode.FORBIDDEN),
    (directory.Ambiguous, ErrorCode.AMBIGUOUS),
    (auth.NotLoggedIn, ErrorCode.LOGIN_REQUIRED),
    (auth.UnknownProfile, ErrorCode.NOT_FOUND),
    (auth.BadLoginRequest, ErrorCode.BAD_PARAMS),
    (auth.LoginInProgress, ErrorCode.CONFLICT),
    (auth.LoginGone, ErrorCode.NOT_FOUND),
    (auth.LoginRefused, ErrorCode.REMOTE),
    (consent.BadRule, ErrorCode.BAD_PARAMS),
    (consent.NotApproved, ErrorCode.FORBIDDEN),
    (consent.UnknownApproval, ErrorCode.NOT_FOUND),
    (consent.AlreadyDecided, ErrorCode.CONFLICT),
    (consent.BadCode, ErrorCode.BAD_PARAMS),
    (consent.CodeRefused, ErrorCode.FORBIDDEN),
    (consent.ApprovalsLocked, ErrorCode.LIMIT),
    (consent.ActionFailed, ErrorCode.CONFLICT),
    (policy.BadClient, ErrorCode.BAD_PARAMS),
    (policy.ClientExists, ErrorCode.CONFLICT),
    (policy.UnknownClient, ErrorCode.NOT_FOUND),
    (policy.NotAuthenticated, ErrorCode.UNAUTHORIZED),
    (policy.NotPermitted, ErrorCode.FORBIDDEN),
    (UnknownFleet, ErrorCode.NOT_FOUND),
    (ConfigError, ErrorCode.BAD_PARAMS),
    (StateCorrupt, ErrorCode.INTERNAL),
    (DomainError, ErrorCode.INTERNAL),  # a domain error without a row here is a bug to fix
)


def register_all() -> None:
    """Register the mapping (idempotent)."""
    for exception_type, code in ERROR_CODES:
        register_error(exception_type, code)
