"""Which RPC error code each domain exception becomes."""

from __future__ import annotations

from jsctl_protocol import ErrorCode

from . import files, sessions
from .config import ConfigError
from .jumpserver import errors as js
from .storage import StateCorrupt
from .translate import register_error


def register_all() -> None:
    """Register the mapping (most specific first)."""
    for exception_type, code in (
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
        (files.FileNotFound, ErrorCode.NOT_FOUND),
        (files.FileExists, ErrorCode.CONFLICT),
        (files.FilePermissionDenied, ErrorCode.FORBIDDEN),
        (files.UnsafeOperation, ErrorCode.BAD_PARAMS),
        (files.FileSessionLimit, ErrorCode.LIMIT),
        (files.FileSessionLost, ErrorCode.SESSION_ENDED),
        (files.FileError, ErrorCode.REMOTE),
        (ConfigError, ErrorCode.BAD_PARAMS),
        (StateCorrupt, ErrorCode.INTERNAL),
    ):
        register_error(exception_type, code)
