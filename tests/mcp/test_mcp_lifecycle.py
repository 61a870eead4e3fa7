"""The shim across hard times: killed agents, a restarted daemon, an expired login; the audit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess
from mcp_agent import Agent, connect_agent, create_client, new_agent

from jsctl_sandbox.testing import SandboxFactory


def _shim_pids(token_file: Path) -> list[int]:
    """Processes running `jsctl mcp --token-file token_file`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"mcp" in argv and str(token_file).encode() in argv:
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def restartable(logged_in: LoggedIn) -> Iterator[LoggedIn]:
    """A logged-in daemon of our own; any daemon a shim restarts in its home is stopped after."""
    yield logged_in
    logged_in.daemon.cli("daemon", "stop", timeout=30)


async def test_a_killed_shim_loses_nothing(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    token = create_client(daemon, "killed", "--allow", "web-*")
    with contextlib.suppress(Exception):  # how the SDK reports a dead server is its business
        async with connect_agent(daemon, token) as agent:
            started = await agent.call(
                "run", asset="web-01", command="sleep 1; echo survived", wait=0.2
            )
            [pid] = _shim_pids(token)
            os.kill(pid, signal.SIGKILL)
            await agent.call("sessions")
    assert _shim_pids(token) == []
    async with connect_agent(daemon, token) as agent:
        listing = await agent.call("sessions")
        assert started.fields["session"] in listing.text
        ended = await agent.call("read", id=started.fields["run"], wait=10)
    assert ended.fields["exit"] == "0" and "survived" in ended.output


async def test_a_daemon_restart_under_the_shim_is_explained(restartable: LoggedIn) -> None:
    daemon = restartable.daemon
    async with new_agent(daemon, "steady", "--allow", "web-*") as agent:
        before = await agent.call("run", asset="web-01", command="echo before")
        lost_session = before.fields["session"]
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                results: list[object] = []

                async def long_call() -> None:
                    results.append(
                        await agent.call("run", session=lost_session, command="sleep 60", wait=50)
                    )

                nursery.start_soon(long_call)
                await trio.sleep(1.0)
                await trio.to_thread.run_sync(daemon.stop)  # the daemon goes away mid-call
        [cut_short] = results
        assert isinstance(cut_short, type(before)) and cut_short.is_error
        assert "daemon stopped during" in cut_short.text and "Traceback" not in cut_short.text
        assert lost_session in cut_short.text and "lost" in cut_short.text
        listing = await agent.call("sessions")
        after = await agent.call("run", asset="web-01", command="echo after")
    # The restarted daemon still names the session the stop lost, and why; it is not live.
    [line] = [line for line in listing.text.splitlines() if lost_session in line]
    assert "state=lost" in line and "daemon" in line, line
    assert after.output.strip() == "after" and after.fields["session"] != lost_session


async def test_an_expired_login_tells_the_agent_what_to_ask(
    fresh_sandbox: SandboxFactory,
) -> None:
    with fresh_sandbox("--no-throttle") as sandbox, DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        async with new_agent(daemon, "night", "--allow", "web-*") as agent:
            opened = await agent.call("run", asset="web-01", command="echo evening")
            assert not opened.is_error, opened.text
            sandbox.control().expire_sessions()
            refused = await agent.call("run", asset="web-02", command="echo morning")
            assert refused.is_error
            assert "jsctl login" in refused.text and "ask the person" in refused.text
            assert "Traceback" not in refused.text and "WebSocket" not in refused.text
            still_listed = await agent.call("find")  # REST works on the access key meanwhile
            assert "web-02" in still_listed.text
            login(daemon, sandbox)  # the person logs in again
            retried = await agent.call("run", asset="web-02", command="echo morning")
        assert retried.output.strip() == "morning", retried.text


def _secrets_of(daemon: DaemonProcess, password: str, totp: str | None) -> set[str]:
    """Every secret that must never show: password, TOTP seed, cookies, access key, tokens."""
    found = {password}
    if totp:
        found.add(totp)
    for path in daemon.paths.state_dir.rglob("*"):
        if path.suffix == ".token":
            found.add(path.read_text().strip())
        if path.suffix != ".json" or not path.is_file():
            continue
        try:
            credentials = json.loads(path.read_text()).get("credentials") or {}
        except (ValueError, AttributeError):
            continue
        found.update(v for v in (credentials.get("cookies") or {}).values() if len(v) > 8)
        if credentials.get("access_key_secret"):
            found.add(credentials["access_key_secret"])
    return {secret for secret in found if secret}


async def _busy_day(agent: Agent) -> None:
    opened = await agent.call("run", asset="web-02", command="echo $((40+2))")
    assert opened.output.strip() == "42"
    session = opened.fields["session"]
    await agent.call("run", session=session, command="(exit 3)")
    slow = await agent.call("run", session=session, command="sleep 30", wait=0.2)
    await agent.call("interrupt", id=slow.fields["run"])
    await agent.call("input", session=session, text="echo typed", keys=["enter"])
    await agent.call("screen", session=session)
    await agent.call("sessions")
    await agent.call("find")
    await agent.call("run", asset="db-01", command="id")  # refused
    await agent.call("close", session=session)


async def test_the_audit_records_every_action_and_nothing_leaks_secrets(
    logged_in: LoggedIn,
) -> None:
    daemon = logged_in.daemon
    token = create_client(daemon, "audited", "--allow", "web-*")
    seen: list[str] = []
    async with connect_agent(daemon, token) as agent:
        await _busy_day(agent)
        seen += agent.seen
    revoked = daemon.cli("client", "revoke", "audited")
    assert revoked.returncode == 0
    async with connect_agent(daemon, token) as agent:
        refused = await agent.call("sessions")
        assert refused.is_error
        seen += agent.seen
    await trio.sleep(0.5)  # let the daemon append the last run.end record
    result = daemon.cli("audit", "--client", "audited", "--json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)["records"]
    actions = [record["action"] for record in records]
    for action in ("session.open", "run.start", "run.end", "run.interrupt", "session.kill"):
        assert action in actions, actions
    commands = [r.get("command") for r in records if r["action"] == "run.start"]
    assert "echo $((40+2))" in commands and "sleep 30" in commands
    statuses = {r.get("exit_status") for r in records if r["action"] == "run.end"}
    assert {0, 3} <= statuses
    human = daemon.cli("audit", "--client", "audited")
    assert "echo $((40+2))" in human.stdout and "exit=3" in human.stdout

    user = logged_in.sandbox.user(logged_in.username)
    secrets = _secrets_of(daemon, user.password, user.totp_secret)
    assert len(secrets) >= 4  # password, TOTP seed, a cookie, the access key, the token
    haystacks = {"tool results": "\n".join(seen), "audit": result.stdout + human.stdout}
    haystacks["daemon log"] = daemon.log_text()
    haystacks["shim stderr"] = (daemon.home / "shim-stderr.log").read_text()
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret appears in the {where}"
