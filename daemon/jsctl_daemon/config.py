"""The user's TOML config: defaults for profiles and daemon limits.

Example ``config.toml``::

    default_profile = "corp"

    [profiles.corp]
    url = "https://jms.example.com"
    username = "mei"
    org = "Default"
    ca_file = "/etc/ssl/corp-ca.pem"   # or: insecure = true
    timeout = 30

    [daemon]
    keepalive_interval = 600     # seconds between web-session keep-alives
    session_buffer_bytes = 4194304
    max_sessions_per_profile = 64
    max_sessions_per_client = 16
    session_idle_timeout = 0     # 0 = never reap idle sessions
    server_idle_warning = 300    # warn this long before KoKo's own idle limit ends a session
    directory_ttl = 300          # seconds before the asset cache refreshes in the background
    fleet_parallel = 32          # runs at once of one `jsctl exec 'web-*'` (its --parallel)
    fleet_confirm_over = 20      # a fleet on more assets needs --yes (agents: refused)
    max_connections = 256        # front ends connected at once; more are turned away
    max_partial_frame_bytes = 67108864  # bytes of unfinished requests held across connections
    client_send_timeout = 30     # a front end that reads nothing for this long is cut off
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class ProfileDefaults:
    """What the config says about one profile (all optional)."""

    url: str | None = None
    username: str | None = None
    org: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 30.0


@dataclass(frozen=True)
class DaemonSettings:
    """Daemon-wide knobs."""

    keepalive_interval: float = 600.0
    web_probe_ttl: float = 30.0
    session_buffer_bytes: int = 4 * 1024 * 1024
    max_sessions_per_profile: int = 64
    max_sessions_per_client: int = 16
    session_idle_timeout: float = 0.0
    server_idle_warning: float = 300.0  # warn this long before KoKo ends a quiet session
    directory_ttl: float = 300.0
    record_sessions: bool = False
    approval_timeout: float = 300.0  # a held agent call not decided by then counts as denied
    fleet_parallel: int = 32
    fleet_confirm_over: int = 20
    max_connections: int = 256
    max_partial_frame_bytes: int = 64 * 1024 * 1024
    client_send_timeout: float = 30.0


@dataclass(frozen=True)
class Config:
    """The whole config file."""

    default_profile: str | None = None
    profiles: dict[str, ProfileDefaults] = field(default_factory=dict)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)

    def profile(self, name: str) -> ProfileDefaults:
        """The defaults for ``name`` (empty when the file does not mention it)."""
        return self.profiles.get(name, ProfileDefaults())


def _typed(section: dict[str, Any], cls: type[Any], where: str) -> Any:
    known = cls.__dataclass_fields__
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in section.items():
        expected = type(getattr(cls(), name))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if getattr(cls(), name) is None:
            expected = str
        if not isinstance(value, expected):
            raise ConfigError(f"{where}: `{name}` must be {expected.__name__}")
        values[name] = value
    return cls(**values)


def load_config(path: Path) -> Config:
    """Read ``path``; a missing file is an empty config, a broken one a ConfigError."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    profiles_section = raw.pop("profiles", {})
    daemon_section = raw.pop("daemon", {})
    default_profile = raw.pop("default_profile", None)
    if raw:
        raise ConfigError(f"{path}: unknown top-level setting(s) {', '.join(sorted(raw))}")
    if not isinstance(profiles_section, dict) or not isinstance(daemon_section, dict):
        raise ConfigError(f"{path}: [profiles.NAME] and [daemon] must be tables")
    profiles = {
        name: _typed(section, ProfileDefaults, f"{path} [profiles.{name}]")
        for name, section in profiles_section.items()
    }
    return Config(
        default_profile=default_profile if isinstance(default_profile, str) else None,
        profiles=profiles,
        daemon=_typed(daemon_section, DaemonSettings, f"{path} [daemon]"),
    )
