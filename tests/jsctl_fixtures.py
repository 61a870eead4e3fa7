"""Fixtures for tests that drive the real daemon against the real sandbox."""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from jsctl_testing import DaemonProcess, short_tempdir

from jsctl_sandbox.testing import SandboxInfo, running_sandbox


@dataclass
class LoggedIn:
    """A daemon logged in to a sandbox as an MFA user."""

    daemon: DaemonProcess
    sandbox: SandboxInfo
    username: str


def otp_command(sandbox: SandboxInfo, username: str) -> str:
    """A --otp-command that prints the user's current TOTP code."""
    secret = sandbox.user(username).totp_secret
    code = f"import pyotp; print(pyotp.TOTP({secret!r}).now())"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def login(
    daemon: DaemonProcess, sandbox: SandboxInfo, username: str = "mei", profile: str | None = None
) -> None:
    """Log the daemon in through the real CLI (password on stdin, code from a command)."""
    user = sandbox.user(username)
    args = ["login", "--url", sandbox.url, "--username", username, "--ca-file", sandbox.ca_file]
    if profile:
        args += ["--profile", profile]
    if user.totp_secret:
        args += ["--otp-command", otp_command(sandbox, username)]
    result = daemon.cli(*args, input=user.password + "\n")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def jsctl_daemon() -> Iterator[DaemonProcess]:
    """A fresh daemon with its own JSCTL_HOME (not logged in)."""
    with DaemonProcess.started() as daemon:
        yield daemon


@contextlib.contextmanager
def logged_in_daemon(sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    """A daemon logged in as `mei`; at the end it logs out, revoking its access key (the
    shared sandbox, like a real server, allows a user only 10 keys)."""
    with DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        try:
            yield LoggedIn(daemon, sandbox, "mei")
        finally:
            if daemon.process is not None and daemon.process.poll() is None:
                daemon.cli("logout")


@contextlib.contextmanager
def fleet_login(generated_assets: int, daemon_settings: str) -> Iterator[LoggedIn]:
    """Its own sandbox with ``generated_assets`` hosts, and a daemon with ``daemon_settings``
    (lines of config.toml's [daemon] table) logged in to it as `mei`; logged out at the end."""
    config = short_tempdir()
    (config / "config.toml").write_text(f"[daemon]\n{daemon_settings}")
    with (
        running_sandbox("--no-throttle", "--assets", str(generated_assets)) as sandbox,
        DaemonProcess.started(JSCTL_CONFIG_DIR=str(config)) as daemon,
    ):
        login(daemon, sandbox)
        try:
            yield LoggedIn(daemon, sandbox, "mei")
        finally:
            daemon.cli("logout")


@pytest.fixture
def logged_in(sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    """A fresh daemon logged in to the shared sandbox as `mei` (TOTP MFA)."""
    with logged_in_daemon(sandbox) as logged:
        yield logged


@pytest.fixture(scope="module")
def shared_login(sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    """Like `logged_in` but shared by a module's tests (do not log out or expire it)."""
    with logged_in_daemon(sandbox) as logged:
        yield logged
