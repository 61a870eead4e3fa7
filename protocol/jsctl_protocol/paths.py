"""Where jsctl keeps its socket, state, config and logs; shared by the daemon and every client.

Overrides, most specific first: JSCTL_SOCKET, JSCTL_STATE_DIR, JSCTL_CONFIG_DIR; JSCTL_HOME puts
all of them under one directory (tests, several instances). Otherwise the platform's user dirs
(platformdirs), with the socket in the user runtime dir (XDG_RUNTIME_DIR on Linux).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP = "jsctl"


class Paths:
    """The file-system locations of one jsctl instance."""

    __slots__ = ("config_dir", "socket", "state_dir")

    def __init__(self, socket: Path, state_dir: Path, config_dir: Path) -> None:
        self.socket, self.state_dir, self.config_dir = socket, state_dir, config_dir

    def __repr__(self) -> str:
        return f"Paths(socket={str(self.socket)!r}, state_dir={str(self.state_dir)!r})"

    @property
    def runtime_dir(self) -> Path:
        """The 0700 directory holding the socket and the daemon lock."""
        return self.socket.parent

    @property
    def lock_file(self) -> Path:
        """Held (flock) by the running daemon: one daemon per socket."""
        return self.runtime_dir / f"{self.socket.name}.lock"

    @property
    def log_dir(self) -> Path:
        """The daemon's rotating log files."""
        return self.state_dir / "logs"

    @property
    def log_file(self) -> Path:
        """The daemon's current log file."""
        return self.log_dir / "daemon.log"

    @property
    def config_file(self) -> Path:
        """The TOML config file with profile defaults."""
        return self.config_dir / "config.toml"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Paths:
        """Resolve the paths from the environment (see the module doc)."""
        env = os.environ if env is None else env
        home = env.get("JSCTL_HOME")
        if home:
            base = Path(home)
            socket, state, config = base / "run" / "jsctl.sock", base / "state", base / "config"
        else:
            socket, state, config = _default_socket(env), *_default_dirs()
        return cls(
            socket=Path(env.get("JSCTL_SOCKET") or socket),
            state_dir=Path(env.get("JSCTL_STATE_DIR") or state),
            config_dir=Path(env.get("JSCTL_CONFIG_DIR") or config),
        )

    def as_dict(self) -> dict[str, str]:
        """Every location as a string, for `jsctl paths`."""
        return {
            "socket": str(self.socket),
            "runtime_dir": str(self.runtime_dir),
            "state_dir": str(self.state_dir),
            "config_dir": str(self.config_dir),
            "config_file": str(self.config_file),
            "log_file": str(self.log_file),
        }


def _default_socket(env: Mapping[str, str]) -> Path:
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / APP / "jsctl.sock"
    import warnings

    import platformdirs  # only when XDG_RUNTIME_DIR is unset: keeps the CLI start fast

    with warnings.catch_warnings():  # it warns about its own /tmp fallback; we choose below
        warnings.simplefilter("ignore")
        candidate = Path(platformdirs.user_runtime_dir(APP))
    if candidate.parent.is_dir() and os.access(candidate.parent, os.W_OK):
        return candidate / "jsctl.sock"
    # e.g. containers without /run/user/<uid>: a per-uid directory in /tmp, checked at bind
    return Path("/tmp") / f"{APP}-{os.getuid()}" / "jsctl.sock"


def _default_dirs() -> tuple[Path, Path]:
    import platformdirs

    return Path(platformdirs.user_state_dir(APP)), Path(platformdirs.user_config_dir(APP))
