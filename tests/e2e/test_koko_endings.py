"""How KoKo ends and holds sessions, seen through the real daemon (sheet 7.6, KoKo v4.10.15):
every end says why (the red notice or the connect error), a paused session refuses runs,
KoKo's idle limit shows where sessions are listed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess

from jsctl_clients.rpc import DaemonClient
from jsctl_protocol import ErrorCode, RpcError
from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture
def client(shared_login: LoggedIn, sandbox: SandboxInfo) -> Iterator[DaemonClient]:
    sandbox.control().reset()
    with shared_login.daemon.client() as rpc:
        yield rpc
    sandbox.control().reset()


def _open(client: DaemonClient) -> dict[str, Any]:
    return dict(client.call("session.open", asset="web-01")["session"])


def _koko_id(sandbox: SandboxInfo, before: set[str]) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        fresh = [t["id"] for t in sandbox.control().terminals() if t["id"] not in before]
        if fresh:
            return str(fresh[0])
        time.sleep(0.05)
    raise AssertionError("the sandbox never bridged the terminal")


def _ended(client: DaemonClient, session: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = client.call("session.get", session=session)["session"]
        if info["state"] in ("closed", "lost"):
            return dict(info)
        time.sleep(0.1)
    raise AssertionError(f"session {session} never ended")


def _audited_end(client: DaemonClient, session: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for record in client.call("audit.query")["records"]:
            if record.get("action") == "session.end" and record.get("session") == session:
                return dict(record)
        time.sleep(0.1)
    raise AssertionError("no session.end audit record")


def test_admin_kill_says_who_in_sessions_wait_and_audit(
    client: DaemonClient, sandbox: SandboxInfo
) -> None:
    before = {t["id"] for t in sandbox.control().terminals()}
    session = _open(client)["id"]
    koko = _koko_id(sandbox, before)
    run = client.call("run.start", session=session, command="sleep 30", wait=0)
    sandbox.control().terminal_task(koko, "kill_session", "Ann(ann)")
    why = "KoKo ended the session: Terminated by admin Ann(ann)"
    assert _ended(client, session)["reason"] == why
    waited = client.call("run.wait", handle=run["handle"], timeout=10)["run"]
    assert waited["state"] == "lost" and why in waited["note"]
    assert _audited_end(client, session)["reason"] == why


def test_idle_limit_shown_then_enforced_on_the_server_clock(fresh_sandbox: Any) -> None:
    # A sandbox of its own: its clock moves 31 minutes.
    with fresh_sandbox("--no-throttle") as sandbox, DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        sandbox.control().koko(limits_tick_s=0.1)  # KoKo looks every 30 s; the sandbox sooner
        with daemon.client() as client:
            info = _open(client)
            assert info["server_idle_timeout_s"] == 1800
            assert 1700 < info["server_idle_at"] - time.time() <= 1800
            listing = client.call("session.list")
            assert listing["limits"]["server_idle_timeout_s"] == 1800
            shown = daemon.cli("sessions")
            assert "KoKo ends a session after 30 min without input" in shown.stdout
            time.sleep(0.5)
            assert client.call("session.get", session=info["id"])["session"]["state"] == "live"
            sandbox.control().advance_clock(31 * 60)
            ended = _ended(client, info["id"])
            assert ended["state"] == "closed"
            assert ended["reason"] == (
                "KoKo ended the session: Connect idle more than 30 minutes, disconnect"
            )
            assert ended["server_idle_at"] is None


def test_paused_session_refuses_runs_until_resumed(
    client: DaemonClient, sandbox: SandboxInfo
) -> None:
    before = {t["id"] for t in sandbox.control().terminals()}
    session = _open(client)["id"]
    koko = _koko_id(sandbox, before)
    sandbox.control().terminal_task(koko, "lock_session", "Ann(ann)")
    deadline = time.monotonic() + 10
    while not client.call("session.get", session=session)["session"]["paused"]:
        assert time.monotonic() < deadline, "the pause never showed"
        time.sleep(0.05)
    assert client.call("session.get", session=session)["session"]["paused_by"] == "Ann(ann)"
    with pytest.raises(RpcError) as refused:
        client.call("run.start", session=session, command="echo hi", wait=5)
    assert refused.value.code == ErrorCode.CONFLICT and "paused by Ann(ann)" in str(refused.value)
    with pytest.raises(RpcError, match="paused"):
        client.call("session.write", session=session, data="echo typed\r")
    sandbox.control().terminal_task(koko, "unlock_session", "Ann(ann)")
    while client.call("session.get", session=session)["session"]["paused"]:
        time.sleep(0.05)
    done = client.call("run.start", session=session, command="echo back-$((2+3))", wait=20)
    assert done["state"] == "done"
    client.call("session.kill", sessions=[session])


def test_asset_connect_error_is_the_open_error(client: DaemonClient, sandbox: SandboxInfo) -> None:
    sandbox.control().koko(asset_login_error="ssh: handshake failed: unable to authenticate")
    with pytest.raises(RpcError) as refused:
        _open(client)
    text = str(refused.value)
    assert "Connecting to" in text and "error: ssh: handshake failed" in text, text


def test_a_character_split_across_kokos_frames_comes_out_whole(client: DaemonClient) -> None:
    session = _open(client)["id"]
    done = client.call(
        "run.start",
        session=session,
        command="printf '<\\303'; sleep 0.3; printf '\\251>\\n'",
        wait=20,
    )
    assert done["state"] == "done" and "<é>".encode() in done["output"]
    screen = client.call("session.screen", session=session)
    assert any("<é>" in line for line in screen["lines"]), screen["lines"]
    client.call("session.kill", sessions=[session])
