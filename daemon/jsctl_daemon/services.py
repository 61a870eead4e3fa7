"""What handlers may be given: one field per service, each handler naming those it uses.

Built once when the daemon starts serving (the session manager exists only then); the registry
(rpc.py) checks every handler's keyword-only parameters against these fields and binds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .audit import AuditLog
from .auth import AuthDomain
from .config import Config
from .consent import ApprovalBroker, CodeVerifier
from .directory import DirectoryDomain
from .file_access import FileAccess
from .files import FileSessionManager
from .fleet import FleetManager
from .identity import IdentityTracker
from .policy import Policy
from .session_access import SessionAccess
from .session_index import SessionIndex
from .sessions import SessionManager
from .targets import Targets
from .watch_links import WatchLinks


class DaemonControl(Protocol):
    """The daemon's own figures and its stop button (daemon.status, daemon.shutdown)."""

    def status(self) -> dict[str, Any]:
        """Figures for `daemon.status`."""

    def request_shutdown(self) -> None:
        """Stop once the current reply is sent."""


@dataclass(frozen=True)
class Services:
    """Every service a handler can ask for by name."""

    settings: Config
    auth: AuthDomain
    directory: DirectoryDomain
    policy: Policy
    audit: AuditLog
    approvals: ApprovalBroker
    codes: CodeVerifier
    identities: IdentityTracker
    fleets: FleetManager
    session_index: SessionIndex
    files: FileSessionManager
    sessions: SessionManager
    targets: Targets  # the directory through the caller's allow-lists
    access: SessionAccess  # sessions and runs the caller may use; opening one for it
    file_access: FileAccess  # a file session for the caller's asset, audited
    watch_links: WatchLinks  # one-time read-only looks at a session (session.share)
    control: DaemonControl
