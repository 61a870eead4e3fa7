"""The daemon's service definitions: systemd user units and a launchd LaunchAgent, as text.

One home for both the files `jsctl daemon install` writes and the reference copies in the
repository's systemd/ and launchd/ directories (`python -m jsctl_clients._service_units DIR`
rewrites those).
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jsctl_paths import Paths

SOCKET_UNIT = "jsctl.socket"
SERVICE_UNIT = "jsctl.service"
LAUNCHD_LABEL = "io.jsctl.daemon"
LAUNCHD_SOCKET_NAME = "Listeners"  # the plist's Sockets key; the daemon asks launchd for it
PATH_VARIABLES = ("JSCTL_HOME", "JSCTL_STATE_DIR", "JSCTL_CONFIG_DIR")


@dataclass(frozen=True)
class ServiceSettings:
    """What the units need to know: how to run the daemon, where it listens, what env it gets."""

    python: str
    socket: str  # for systemd may use %t (the user's runtime dir)
    environment: dict[str, str] = field(default_factory=dict)
    log_dir: str = ""

    @classmethod
    def current(
        cls, env: Mapping[str, str] | None = None, *, systemd: bool = True
    ) -> ServiceSettings:
        """Settings for this installation and environment, so the service and the CLI agree."""
        env = os.environ if env is None else env
        paths = Paths.from_env(env)
        socket = str(paths.socket)
        runtime = env.get("XDG_RUNTIME_DIR", "")
        if systemd and runtime and socket.startswith(runtime.rstrip("/") + "/"):
            socket = "%t" + socket[len(runtime.rstrip("/")) :]
        elif systemd:
            socket = socket.replace("%", "%%")
        carried = {name: env[name] for name in PATH_VARIABLES if env.get(name)}
        return cls(sys.executable, socket, carried, str(paths.log_dir))


def _systemd_quote(word: str) -> str:
    """One ExecStart=/Environment= word, quoted when it holds spaces or quotes."""
    if word and not any(c in word for c in " \t\"'\\"):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(settings: ServiceSettings) -> dict[str, str]:
    """{unit file name: text} for the socket and the service it starts."""
    socket_unit = f"""\
# jsctl: the per-user daemon's socket. systemd listens; the first connection starts jsctl.service.
# Enable: systemctl --user daemon-reload && systemctl --user enable --now {SOCKET_UNIT}

[Unit]
Description=jsctl daemon socket (JumpServer logins and terminal sessions)

[Socket]
ListenStream={settings.socket}
SocketMode=0600
DirectoryMode=0700
RemoveOnStop=yes

[Install]
WantedBy=sockets.target
"""
    environment = {"JSCTL_SOCKET": settings.socket, **settings.environment}
    env_lines = "".join(
        f"Environment={_systemd_quote(f'{key}={value}')}\n" for key, value in environment.items()
    )
    exec_start = " ".join(_systemd_quote(w) for w in (settings.python, "-m", "jsctl_daemon"))
    service_unit = f"""\
# jsctl: the per-user daemon, started on demand by {SOCKET_UNIT} (socket activation).
# `jsctl daemon stop` exits cleanly; the socket starts it again on the next command.

[Unit]
Description=jsctl daemon (JumpServer logins and terminal sessions)
Requires={SOCKET_UNIT}
After={SOCKET_UNIT}

[Service]
Type=simple
ExecStart={exec_start}
{env_lines}Restart=on-failure
RestartSec=2
UMask=0077
# Hardening that needs no privileges (works in the user manager): the daemon only talks
# HTTPS/WSS and to its own Unix socket, and never needs new privileges or namespaces.
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

[Install]
Also={SOCKET_UNIT}
"""
    return {SOCKET_UNIT: socket_unit, SERVICE_UNIT: service_unit}


def launchd_plist(settings: ServiceSettings) -> bytes:
    """The LaunchAgent: launchd owns the socket and starts the daemon on the first connection."""
    agent = {
        "Label": LAUNCHD_LABEL,
        "ProgramArguments": [settings.python, "-m", "jsctl_daemon"],
        "EnvironmentVariables": {
            "JSCTL_LAUNCHD_SOCKET": LAUNCHD_SOCKET_NAME,
            "JSCTL_SOCKET": settings.socket,
            **settings.environment,
        },
        "Sockets": {
            LAUNCHD_SOCKET_NAME: {
                "SockPathName": settings.socket,
                "SockPathMode": 0o600,  # plists hold decimal: 384
                "SockType": "stream",
            }
        },
        "KeepAlive": {"SuccessfulExit": False},  # restart after a crash, not after a clean stop
        "ProcessType": "Adaptive",
        "StandardErrorPath": str(Path(settings.log_dir) / "launchd.log"),
    }
    return plistlib.dumps(agent, sort_keys=True)


def launchd_file_name() -> str:
    """The LaunchAgent's file name."""
    return f"{LAUNCHD_LABEL}.plist"


# What the repository's reference copies show (install writes this machine's real values).
REFERENCE_SYSTEMD = ServiceSettings("/usr/bin/python3", "%t/jsctl/jsctl.sock")
REFERENCE_LAUNCHD = ServiceSettings(
    "/usr/local/bin/python3",
    "/Users/you/Library/Caches/TemporaryItems/jsctl/jsctl.sock",
    log_dir="/Users/you/Library/Application Support/jsctl/logs",
)


def reference_files() -> dict[str, bytes]:
    """{path relative to the repository: content} of the reference copies."""
    files = {
        f"systemd/{name}": text.encode() for name, text in systemd_units(REFERENCE_SYSTEMD).items()
    }
    files[f"launchd/{launchd_file_name()}"] = launchd_plist(REFERENCE_LAUNCHD)
    return files


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for relative, content in reference_files().items():
        (root / relative).parent.mkdir(exist_ok=True)
        (root / relative).write_bytes(content)
        print(root / relative)
