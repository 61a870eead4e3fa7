"""Service files: what `jsctl daemon install` writes, checked by systemd-analyze and plistlib."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsctl_testing import JSCTL, short_tempdir

from jsctl_clients._service_units import (
    LAUNCHD_SOCKET_NAME,
    ServiceSettings,
    launchd_plist,
    reference_files,
    systemd_units,
)

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Home:
    """A fake HOME / XDG_CONFIG_HOME / JSCTL_HOME for one test."""

    root: Path
    env: dict[str, str]

    def jsctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*JSCTL, *args], env=self.env, capture_output=True, text=True, timeout=60
        )


@pytest.fixture
def home() -> Iterator[Home]:
    root = short_tempdir("jss")
    env = {
        **os.environ,
        "HOME": str(root / "home"),
        "XDG_CONFIG_HOME": str(root / "config"),
        "JSCTL_HOME": str(root / "jsctl"),
        "PATH": "/nonexistent",  # no systemctl/launchctl: install must not need them
    }
    env.pop("JSCTL_SOCKET", None)
    yield Home(root, env)
    shutil.rmtree(root, ignore_errors=True)


def verify(directory: Path, *units: str) -> str:
    """systemd-analyze's complaints about ``units`` (empty when they are sound)."""
    done = subprocess.run(
        ["systemd-analyze", "--user", "verify", *units],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_RUNTIME_DIR": str(directory)},
    )
    return (done.stdout + done.stderr).strip() + ("" if done.returncode == 0 else " (failed)")


needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def test_install_writes_units_that_run_this_python_on_this_socket(home: Home) -> None:
    done = home.jsctl("daemon", "install", "--systemd")
    assert done.returncode == 0, done.stderr
    unit_dir = home.root / "config" / "systemd" / "user"
    service = (unit_dir / "jsctl.service").read_text()
    socket_unit = (unit_dir / "jsctl.socket").read_text()
    socket_path = home.root / "jsctl" / "run" / "jsctl.sock"
    assert f"ExecStart={sys.executable} -m jsctl_daemon\n" in service
    assert f"Environment=JSCTL_HOME={home.root / 'jsctl'}\n" in service
    assert f"Environment=JSCTL_SOCKET={socket_path}\n" in service
    assert f"ListenStream={socket_path}\n" in socket_unit
    assert "SocketMode=0600\n" in socket_unit
    assert "systemctl --user enable --now jsctl.socket" in done.stdout


def test_dry_run_prints_and_writes_nothing(home: Home) -> None:
    done = home.jsctl("daemon", "install", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "[Socket]" in done.stdout and "[Service]" in done.stdout
    assert not (home.root / "config").exists()


def test_uninstall_removes_what_install_wrote(home: Home) -> None:
    assert home.jsctl("daemon", "install", "--systemd").returncode == 0
    done = home.jsctl("--json", "daemon", "uninstall", "--systemd")
    assert done.returncode == 0, done.stderr
    unit_dir = home.root / "config" / "systemd" / "user"
    assert sorted(os.listdir(unit_dir)) == []
    again = home.jsctl("daemon", "uninstall", "--systemd")
    assert "no service files were installed" in again.stdout


@needs_analyze
def test_installed_units_pass_systemd_analyze_verify(home: Home) -> None:
    assert home.jsctl("daemon", "install", "--systemd").returncode == 0
    unit_dir = home.root / "config" / "systemd" / "user"
    assert verify(unit_dir, "jsctl.socket", "jsctl.service") == ""


@needs_analyze
def test_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    units = systemd_units(ServiceSettings("/nonexistent/python3", "%t/jsctl/jsctl.sock"))
    for name, text in units.items():
        (tmp_path / name).write_text(text.replace("RestartSec=2", "RestartSecs=2"))
    complaint = verify(tmp_path, "jsctl.socket", "jsctl.service")
    assert "not executable" in complaint and "RestartSecs" in complaint


def test_spaces_and_percent_in_paths_are_quoted() -> None:
    settings = ServiceSettings("/opt/my tools/python", "/tmp/100%/jsctl.sock")
    service = systemd_units(settings)["jsctl.service"]
    assert 'ExecStart="/opt/my tools/python" -m jsctl_daemon\n' in service
    assert (
        "/tmp/100%%/jsctl.sock"
        in systemd_units(ServiceSettings.current({"JSCTL_SOCKET": "/tmp/100%/jsctl.sock"}))[
            "jsctl.socket"
        ]
    )


def test_install_for_launchd_writes_a_valid_launch_agent(home: Home) -> None:
    done = home.jsctl("daemon", "install", "--launchd")
    assert done.returncode == 0, done.stderr
    plist = home.root / "home" / "Library" / "LaunchAgents" / "io.jsctl.daemon.plist"
    agent = plistlib.loads(plist.read_bytes())
    socket_path = str(home.root / "jsctl" / "run" / "jsctl.sock")
    assert agent["ProgramArguments"] == [sys.executable, "-m", "jsctl_daemon"]
    environment = agent["EnvironmentVariables"]
    assert environment["JSCTL_LAUNCHD_SOCKET"] == LAUNCHD_SOCKET_NAME
    assert environment["JSCTL_SOCKET"] == socket_path
    listener = agent["Sockets"][environment["JSCTL_LAUNCHD_SOCKET"]]
    assert listener == {"SockPathName": socket_path, "SockPathMode": 0o600, "SockType": "stream"}
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert "launchctl bootstrap gui/" in done.stdout
    assert (home.root / "jsctl" / "run").stat().st_mode & 0o777 == 0o700


def test_repository_reference_copies_are_current() -> None:
    for relative, content in reference_files().items():
        assert (REPO / relative).read_bytes() == content, (
            f"{relative} is stale: run `python -m jsctl_clients._service_units .`"
        )
    plistlib.loads(launchd_plist(ServiceSettings("/usr/bin/python3", "/tmp/x.sock")))


@needs_analyze
def test_repository_systemd_units_verify(tmp_path: Path) -> None:
    for name in ("jsctl.socket", "jsctl.service"):
        shutil.copy(REPO / "systemd" / name, tmp_path / name)
    if not Path("/usr/bin/python3").exists():
        pytest.skip("the reference unit runs /usr/bin/python3")
    assert verify(tmp_path, "jsctl.socket", "jsctl.service") == ""
