"""Where jsctl keeps its socket, state, config and logs; shared by the daemon and every client.

Overrides, most specific first: JSCTL_SOCKET, JSCTL_STATE_DIR, JSCTL_CONFIG_DIR; JSCTL_HOME puts
all of them under one directory (tests, several instances). Otherwise the platform's user dirs
(platformdirs), with the socket in the user runtime dir (XDG_RUNTIME_DIR on Linux).

Locations are kept as strings and handed out as ``pathlib.Path`` on demand: resolving them is on
every `jsctl` call's path, and importing pathlib costs start-up time a ping need not pay.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not from typing: importing typing costs a completion ~4 ms

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

APP = "jsctl"


def _path(value: str) -> Path:
    from pathlib import Path

    return Path(value)


class Paths:
    """The file-system locations of one jsctl instance."""

    __slots__ = ("_config_dir", "_state_dir", "socket_name")

    def __init__(
        self,
        socket: str | os.PathLike[str],
        state_dir: str | os.PathLike[str] | None,
        config_dir: str | os.PathLike[str] | None,
    ) -> None:
        self.socket_name = os.fspath(socket)  # plain strings: the CLI's hot path uses these
        # None: the platform's default, resolved (platformdirs) only when first asked for; a
        # call that only talks to the daemon never needs them.
        self._state_dir = None if state_dir is None else os.fspath(state_dir)
        self._config_dir = None if config_dir is None else os.fspath(config_dir)

    @property
    def state_dir_name(self) -> str:
        """The state directory as a string."""
        if self._state_dir is None:
            import platformdirs

            self._state_dir = platformdirs.user_state_dir(APP)
        return self._state_dir

    @property
    def config_dir_name(self) -> str:
        """The configuration directory as a string."""
        if self._config_dir is None:
            import platformdirs

            self._config_dir = platformdirs.user_config_dir(APP)
        return self._config_dir

    def __repr__(self) -> str:
        return f"Paths(socket={self.socket_name!r}, state_dir={self.state_dir_name!r})"

    @property
    def socket(self) -> Path:
        """The daemon's Unix socket."""
        return _path(self.socket_name)

    @property
    def state_dir(self) -> Path:
        """Profiles, caches, audit, logs (0700)."""
        return _path(self.state_dir_name)

    @property
    def config_dir(self) -> Path:
        """The user's configuration directory."""
        return _path(self.config_dir_name)

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
            socket = os.path.join(home, "run", "jsctl.sock")
            state, config = os.path.join(home, "state"), os.path.join(home, "config")
        else:
            socket = "" if env.get("JSCTL_SOCKET") else _default_socket(env)
            return cls(
                socket=env.get("JSCTL_SOCKET") or socket,
                state_dir=env.get("JSCTL_STATE_DIR") or None,
                config_dir=env.get("JSCTL_CONFIG_DIR") or None,
            )
        return cls(
            socket=env.get("JSCTL_SOCKET") or socket,
            state_dir=env.get("JSCTL_STATE_DIR") or state,
            config_dir=env.get("JSCTL_CONFIG_DIR") or config,
        )

    def as_dict(self) -> dict[str, str]:
        """Every location as a string, for `jsctl paths`."""
        return {
            "socket": self.socket_name,
            "runtime_dir": str(self.runtime_dir),
            "state_dir": self.state_dir_name,
            "config_dir": self.config_dir_name,
            "config_file": str(self.config_file),
            "log_file": str(self.log_file),
        }


def _default_socket(env: Mapping[str, str]) -> str:
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, APP, "jsctl.sock")
    import sys

    if sys.platform == "linux":  # what platformdirs answers there, without importing it
        candidate = os.path.join("/run/user", str(os.getuid()), APP)
    else:
        import warnings

        import platformdirs

        with warnings.catch_warnings():  # it warns about its own /tmp fallback; we choose below
            warnings.simplefilter("ignore")
            candidate = platformdirs.user_runtime_dir(APP)
    parent = os.path.dirname(candidate)
    if os.path.isdir(parent) and os.access(parent, os.W_OK):
        return os.path.join(candidate, "jsctl.sock")
    # e.g. containers without /run/user/<uid>: a per-uid directory in /tmp, checked at bind
    return os.path.join("/tmp", f"{APP}-{os.getuid()}", "jsctl.sock")
