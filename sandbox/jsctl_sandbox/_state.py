"""Everything the running sandbox remembers, in one object the views share."""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._captcha import CaptchaStore
from ._clock import Clock
from ._crypto import PasswordKey
from ._directory import Directory
from ._faults import FaultTable
from ._login_core import LoginGuard
from ._sessions import SessionStore
from ._throttle import Throttle
from ._version import ServerVersion
from .koko_contract import KokoSettings

DEFAULT_SERVER_VERSION = "4.10.16"
TOKEN_EXPIRATION = 24 * 3600  # bearer tokens: TOKEN_EXPIRATION, no sliding
CAPTCHA_MARK_SECONDS = 3600


@dataclass
class SandboxOptions:
    """How the sandbox was asked to run (from the command line or a test)."""

    host: str = "127.0.0.1"
    port: int | None = None  # None: the saved port of a persistent sandbox, else any free one
    http: bool = False
    data_dir: Path | None = None
    config: Path | None = None
    assets: int = 0
    json: bool = False
    server_version: str = DEFAULT_SERVER_VERSION
    session_age: int = 86400
    idle_timeout: float | None = None
    throttle: bool | None = None
    allow_remote: bool = False
    cookie_prefix: str = "jms_"
    connection_token_reusable: bool = False
    persist: bool = False  # keep state in data_dir (default: <jsctl state dir>/sandbox)
    strict_referer: bool = False  # Django's Referer rule on every HTTPS request (proxy with XFP)


@dataclass
class BearerToken:
    """A token-API login: usable for 24 h from any IP."""

    key: str
    user_id: str
    ip: str
    expires_at: float


@dataclass
class Ticket:
    """An approval ticket: a connection token or a login (kind `login_confirm`) under review."""

    id: str
    title: str
    applicant_id: str
    token_id: str  # "" for login tickets
    date_created: float
    state: str = "pending"  # pending / approved / rejected / closed
    status: str = "open"  # open / closed
    kind: str = "connection_token"  # or "login_confirm"


@dataclass
class SandboxState:
    """Shared mutable state of one sandbox server."""

    options: SandboxOptions
    directory: Directory
    data_dir: Path
    clock: Clock = field(default_factory=Clock)
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    koko_settings: KokoSettings = field(default_factory=KokoSettings)
    counters: Counter[str] = field(default_factory=Counter)
    captcha_marks: dict[str, float] = field(default_factory=dict)  # client IP -> until
    bearer_tokens: dict[str, BearerToken] = field(default_factory=dict)
    connection_tokens: dict[str, Any] = field(default_factory=dict)  # id -> ConnectionToken
    zone_endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset -> endpoint
    tickets: dict[str, Ticket] = field(default_factory=dict)
    terminal_sessions: list[dict[str, Any]] = field(default_factory=list)
    acl_review_tokens: bool = False
    login_review_users: set[str] = field(default_factory=set)  # usernames under login review
    started_at: float = 0.0
    flash_messages: dict[str, Any] = field(default_factory=dict)  # code -> Flash (60 s)
    koko_routed: bool = True  # False: /koko/ reaches the core (404 / WebSocket 500)

    def __post_init__(self) -> None:
        self.version = ServerVersion(self.options.server_version)
        self.sessions = SessionStore(self.clock, self.options.session_age)
        self.captchas = CaptchaStore(self.clock)
        self.password_key = PasswordKey()
        self.faults = FaultTable()
        self.guard = LoginGuard(self.clock, self.directory)
        rates = self.version.throttle_rates
        enabled = self.options.throttle if self.options.throttle is not None else True
        self.throttle = Throttle(self.clock, rates if enabled else None)
        self.started_at = self.clock.now()
        self.koko_settings.version = self.options.server_version
        if self.options.idle_timeout is not None:
            self.koko_settings.idle_timeout_s = self.options.idle_timeout

    @property
    def prefix(self) -> str:
        """The session/CSRF cookie-name prefix."""
        return self.options.cookie_prefix

    @property
    def session_cookie(self) -> str:
        """Name of the session cookie."""
        return f"{self.prefix}sessionid"

    @property
    def csrf_cookie(self) -> str:
        """Name of the CSRF cookie."""
        return f"{self.prefix}csrftoken"

    def captcha_required(self, ip: str) -> bool:
        """Whether the login form shows a captcha to ``ip``."""
        return self.captcha_marks.get(ip, 0.0) > self.clock.now()

    def mark_captcha(self, ip: str) -> None:
        """Remember a failed form login from ``ip`` for an hour."""
        self.captcha_marks[ip] = self.clock.now() + CAPTCHA_MARK_SECONDS

    def asset_dirs(self, asset_name: str) -> tuple[Path, Path]:
        """(home, sftp root) of an asset, created on first use."""
        base = self.data_dir / "assets" / asset_name
        home, tmp = base / "home", base / "tmp"
        for folder in (home, tmp):  # a stat per terminal, not a failing mkdir (a shell may rm it)
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
        return home, tmp
