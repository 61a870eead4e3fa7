"""Live terminal sessions: ring-buffered output, attachments, exec with real exit codes, screen.

The daemon creates one :class:`SessionManager` (with :func:`open_session_manager`) and injects an
``opener``: ``opener(OpenRequest) -> AsyncContextManager[TerminalTransport]``.
"""

from ._errors import (
    InvalidName,
    InvalidOffset,
    NameTaken,
    SessionBusy,
    SessionEnded,
    SessionError,
    SessionLimitReached,
    SessionNotReady,
    SessionPaused,
    UnknownRun,
    UnknownSession,
)
from ._manager import SessionManager, open_session_manager
from ._markers import quote_for_shell
from ._model import (
    SERVER_IDLE_KEY,
    AttachmentInfo,
    OpenRequest,
    RunInfo,
    RunState,
    ScreenSnapshot,
    SessionInfo,
    SessionLimits,
    SessionListing,
    SessionState,
)
from ._registry import DEFAULT_READ_BYTES
from ._ring import ReadResult, RingBuffer
from ._session import Opener

__all__ = [
    "DEFAULT_READ_BYTES",
    "SERVER_IDLE_KEY",
    "AttachmentInfo",
    "InvalidName",
    "InvalidOffset",
    "NameTaken",
    "OpenRequest",
    "Opener",
    "ReadResult",
    "RingBuffer",
    "RunInfo",
    "RunState",
    "ScreenSnapshot",
    "SessionBusy",
    "SessionEnded",
    "SessionError",
    "SessionInfo",
    "SessionLimitReached",
    "SessionLimits",
    "SessionListing",
    "SessionManager",
    "SessionNotReady",
    "SessionPaused",
    "SessionState",
    "UnknownRun",
    "UnknownSession",
    "open_session_manager",
    "quote_for_shell",
]
