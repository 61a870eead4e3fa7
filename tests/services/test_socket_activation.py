"""Socket activation for real: systemd-socket-activate runs the installed unit's command line."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time

import pytest
from jsctl_testing import JSCTL, short_tempdir

from jsctl_clients.rpc import DaemonClient
from jsctl_paths import Paths

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-socket-activate") is None, reason="systemd-socket-activate missing"
)


def unit_command(service: str) -> tuple[list[str], dict[str, str]]:
    """ExecStart's argv and the Environment= settings of a service unit."""
    argv: list[str] = []
    environment: dict[str, str] = {}
    for line in service.splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStart":
            argv = shlex.split(value)
        elif key == "Environment":
            name, _, setting = shlex.split(value)[0].partition("=")
            environment[name] = setting
    return argv, environment


def test_the_installed_service_starts_on_the_first_connection_and_stops_cleanly() -> None:
    root = short_tempdir("jsa")
    env = {**os.environ, "XDG_CONFIG_HOME": str(root / "config"), "JSCTL_HOME": str(root / "j")}
    env.pop("JSCTL_SOCKET", None)
    try:
        installed = subprocess.run(
            [*JSCTL, "daemon", "install", "--systemd"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert installed.returncode == 0, installed.stderr
        service = (root / "config" / "systemd" / "user" / "jsctl.service").read_text()
        argv, unit_env = unit_command(service)
        paths = Paths.from_env(unit_env)
        paths.runtime_dir.mkdir(mode=0o700, parents=True)  # systemd's DirectoryMode=0700
        manager = subprocess.Popen(
            [
                "systemd-socket-activate",
                "-l",
                str(paths.socket),
                *(f"-E{name}={value}" for name, value in unit_env.items()),
                *argv,
            ],
            env={k: v for k, v in env.items() if not k.startswith("JSCTL_")},
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 15
            while not paths.socket.exists():
                assert time.monotonic() < deadline and manager.poll() is None
                time.sleep(0.02)
            assert not paths.log_file.exists()  # nothing runs until someone connects
            with DaemonClient.connect(paths, autostart=False) as client:
                assert client.call("ping")["pong"]
                assert client.hello["pid"] == manager.pid  # the unit's command, exec'd
            assert "adopted listening socket from systemd" in paths.log_file.read_text()
            stopped = subprocess.run(
                [*JSCTL, "daemon", "stop"],
                env={**env, **unit_env},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert stopped.returncode == 0, stopped.stderr
            assert manager.wait(timeout=15) == 0
        finally:
            if manager.poll() is None:
                manager.terminate()
                manager.wait(timeout=15)
    finally:
        shutil.rmtree(root, ignore_errors=True)
