"""What the KoKo endpoints (terminal, files) need from the sandbox's core state.

The core (login, REST, connection tokens) implements :class:`KokoBackend`; the KoKo
WebSocket handlers only use this surface, so the two halves can change independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import HTTPConnection
from starlette.responses import Response


@dataclass(frozen=True)
class KokoUser:
    """The JumpServer user a KoKo request authenticated as."""

    id: str
    name: str
    username: str
    email: str
    profile: dict[str, Any] = field(default_factory=dict)  # the /api/v1/users/profile/ body


@dataclass(frozen=True)
class KokoGrant:
    """A consumed connection token: who may open what, on which local directory."""

    token_id: str
    user: KokoUser
    asset_id: str
    asset_name: str
    asset_address: str
    org_id: str
    org_name: str
    platform: dict[str, Any]
    account_alias: str
    account_name: str
    account_username: str
    protocol: str
    connect_method: str
    actions: list[str]
    remote_addr: str
    hostname: str  # what the asset's shell prompt shows
    workdir: Path  # the asset's home directory on this machine (shell cwd, file root)
    file_root: Path  # the platform's SFTP root for file access (sheet 8.3)
    asset_info: dict[str, Any] = field(default_factory=dict)  # CONNECT data's v4 `asset`
    shell_env: dict[str, str] = field(default_factory=dict)  # extra environment (sudo, services)
    needs_password: bool = False  # KoKo prompts "<account>'s password: " before connecting


class KokoTokenError(Exception):
    """A token KoKo refuses; ``str(exc)`` is the exact ERROR ``err`` text KoKo sends."""


class KokoTokenUserMismatch(Exception):
    """The token belongs to another user: real KoKo then goes silent (sheet 7.6)."""


@dataclass
class KokoSettings:
    """Timing knobs and fault switches the KoKo handlers honour."""

    read_deadline_s: float = 300.0  # client silent this long -> drop the socket
    server_ping_after_s: float = 30.0  # PING when nothing was written for this long
    idle_timeout_s: float = 30 * 60.0  # SECURITY_MAX_IDLE_TIME: no bytes either way
    max_session_s: float = 24 * 3600.0
    limits_tick_s: float = 30.0  # KoKo looks at idle, max time and permission this often
    perm_expired_grace_s: float = 600.0  # an expired permission ends the session this later
    ping_tick_s: float = 60.0  # KoKo's write loop ticker; it PINGs on a tick when quiet enough
    asset_connect_s: float = 0.1  # how long the asset's SSH login takes ("Connecting to …")
    drop_after_bytes: int | None = None  # fault: abort the socket after N output bytes
    drop_randomly: float = 0.0  # fault: probability per output chunk of an abrupt drop
    # Go's scheduling latency between KoKo reading a file request and its goroutine reading
    # the shared request field (v4.9.0+): tests widen it to make interleaving mix-ups certain.
    sftp_dispatch_delay_s: float = 0.0
    asset_login_error: str | None = None  # fault: the asset refuses KoKo's login with this
    download_read_error_after: int | None = None  # fault: file reads fail after N bytes
    drop_on_output: str | None = None  # fault: abort a terminal whose output chunk contains it
    version: str = "4.10.16"


class KokoBackend(Protocol):
    """Implemented by the sandbox core; used by the KoKo WebSocket handlers."""

    settings: KokoSettings

    def authenticate(self, connection: HTTPConnection) -> KokoUser | Response:
        """The request's user (web-session cookie; on v5 also access-key headers or a connect
        ticket), else KoKo's refusal to send as is (302 to the login page, or a 401)."""
        ...

    def consume_token(self, token_id: str, user: KokoUser) -> KokoGrant:
        """Validate and consume (expire now) a connection token.

        Raises KokoTokenError (with KoKo's err text) or KokoTokenUserMismatch.
        """
        ...

    def record_session(self, grant: KokoGrant, session: dict[str, Any]) -> None:
        """Remember a terminal session (TERMINAL_SESSION data) for audit endpoints."""
        ...

    def now(self) -> float:
        """The server's clock as a Unix time (tests move it forward to reach KoKo's limits)."""
        ...

    def count(self, event: str) -> None:
        """Count an event tests look for (e.g. ``sftp_mixed_up``: a request run with another's
        data), visible through the control API's counters."""
        ...
