"""`jsctl login` under login ACL review: the real CLI and daemon against a private sandbox."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsctl_testing import JSCTL, DaemonProcess

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.login_steps import WaitingReview
from jsctl_daemon.jumpserver.web_login import REVIEW_STATUS, WebLogin
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo

DEADLINE_S = 30.0  # generous bound on how long a step may take on a loaded machine


@dataclass
class LoginRun:
    """A `jsctl login` running in the background while the test plays the administrator."""

    process: subprocess.Popen[str]
    stderr_file: Path

    def finish(self) -> tuple[int, str, str]:
        """Wait for the CLI; returns (exit code, stdout, stderr)."""
        stdout, _ = self.process.communicate(timeout=DEADLINE_S)
        return self.process.returncode, stdout, self.stderr_file.read_text()


@pytest.fixture
def sb(fresh_sandbox: SandboxFactory) -> Iterator[SandboxInfo]:
    """A private sandbox whose admin logins wait for review."""
    with fresh_sandbox("--no-throttle") as info:
        info.control().set_login_review("admin")
        yield info


@contextmanager
def login_in_background(
    daemon: DaemonProcess, sb: SandboxInfo, tmp_path: Path
) -> Iterator[LoginRun]:
    """Start `jsctl login` as admin (password from the environment)."""
    args = ["login", "--url", sb.url, "--username", "admin", "--ca-file", str(sb.ca_file)]
    stderr_file = tmp_path / "login.stderr"
    with stderr_file.open("w") as stderr:
        process = subprocess.Popen(
            [*JSCTL, *args],
            env={**daemon.env, "JSCTL_PASSWORD": sb.user("admin").password},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        yield LoginRun(process, stderr_file)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def eventually(what: str, probe: Callable[[], Any]) -> Any:
    """Poll ``probe`` until it returns something truthy."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def pending_ticket(sb: SandboxInfo) -> dict[str, Any]:
    """The admin's login ticket, once the CLI's login has opened it."""
    ticket: dict[str, Any] = eventually(
        "the login ticket", lambda: sb.control().login_ticket("admin")
    )
    assert ticket["state"] == "pending"
    return ticket


def logged_in_profiles(daemon: DaemonProcess) -> list[str]:
    listing = json.loads(daemon.cli("profile", "ls", "--json").stdout)
    return [row["name"] for row in listing["profiles"] if row["logged_in"]]


def test_login_waits_for_approval_then_completes(
    jsctl_daemon: DaemonProcess, sb: SandboxInfo, tmp_path: Path
) -> None:
    control = sb.control()
    with login_in_background(jsctl_daemon, sb, tmp_path) as run:
        ticket = pending_ticket(sb)
        # Several polls over more than one `auth.login.answer` call: still waiting.
        eventually("repeated polls", lambda: control.counters()["login_review_polls"] >= 3)
        assert run.process.poll() is None
        assert logged_in_profiles(jsctl_daemon) == []
        control.decide_ticket(ticket["id"], approve=True)
        code, stdout, stderr = run.finish()
    assert code == 0, stderr
    assert "Logged in as Administrator (profile default)." in stdout
    waiting = [line for line in stderr.splitlines() if "Waiting for an administrator" in line]
    assert len(waiting) == 1  # said once, not on every poll
    assert ticket["id"] in waiting[0]
    whoami = json.loads(jsctl_daemon.cli("whoami", "--json").stdout)
    assert whoami["user"]["username"] == "admin"
    assert whoami["web_session"]["valid"] is True
    assert whoami["access_key"]["ok"] is True


def test_rejected_login_fails_clearly(
    jsctl_daemon: DaemonProcess, sb: SandboxInfo, tmp_path: Path
) -> None:
    with login_in_background(jsctl_daemon, sb, tmp_path) as run:
        ticket = pending_ticket(sb)
        sb.control().decide_ticket(ticket["id"], approve=False)
        code, _, stderr = run.finish()
    assert code == 1
    assert "the login review ended without approval" in stderr
    assert "Login confirm ticket was Ticket rejected" in stderr
    assert "jsctl login" in stderr
    assert "Traceback" not in stderr
    assert logged_in_profiles(jsctl_daemon) == []
    # Giving up afterwards does not turn the administrator's rejection into a withdrawal.
    assert sb.control().login_ticket("admin") == {**ticket, "state": "rejected", "status": "closed"}


def test_ctrl_c_withdraws_the_ticket(
    jsctl_daemon: DaemonProcess, sb: SandboxInfo, tmp_path: Path
) -> None:
    with login_in_background(jsctl_daemon, sb, tmp_path) as run:
        ticket = pending_ticket(sb)
        eventually("the waiting notice", lambda: "Waiting for" in run.stderr_file.read_text())
        run.process.send_signal(signal.SIGINT)
        code, _, stderr = run.finish()
    assert code == 130
    assert "login cancelled" in stderr
    assert "Traceback" not in stderr
    assert sb.control().login_ticket("admin") == {**ticket, "state": "closed", "status": "closed"}
    assert logged_in_profiles(jsctl_daemon) == []
    with pytest.raises(httpx.HTTPStatusError):  # closed by the applicant: nothing left to approve
        sb.control().decide_ticket(ticket["id"], approve=True)


def test_approval_after_the_half_login_expired(
    jsctl_daemon: DaemonProcess, sb: SandboxInfo, tmp_path: Path
) -> None:
    with login_in_background(jsctl_daemon, sb, tmp_path) as run:
        ticket = pending_ticket(sb)
        sb.control().advance_clock(601)  # the password step counts for 600 s only
        sb.control().decide_ticket(ticket["id"], approve=True)
        code, _, stderr = run.finish()
    assert code == 1
    assert "expired" in stderr and "start again" in stderr
    assert logged_in_profiles(jsctl_daemon) == []


async def test_cancel_leaves_no_ticket_behind(sb: SandboxInfo) -> None:
    async with Connection(ServerConfig(sb.url, ca_file=sb.ca_file)) as conn:
        login = WebLogin(conn, "admin")
        await login.start()
        step = await login.answer(password=sb.user("admin").password)
        assert isinstance(step, WaitingReview)
        assert step == await login.answer()  # polling: still the same ticket
        await login.cancel()
        status = (await conn.request("GET", REVIEW_STATUS, auth="cookie")).json()
        assert status == {
            "error": "login_confirm_error",
            "msg": "Login confirm ticket was Not found",
            "data": {"ticket_id": "", "username": ""},
        }
        closed = sb.control().login_ticket("admin")
        assert closed is not None and closed["id"] == step.ticket_id
        assert closed["state"] == "closed"
