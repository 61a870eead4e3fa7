"""Approvals end to end: a real MCP agent, the real daemon, the sandbox's confirm API and TOTP."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pyotp
import trio
from jsctl_fixtures import LoggedIn, otp_command
from jsctl_testing import JSCTL, DaemonProcess
from mcp_agent import connect_agent, create_client, new_agent

from jsctl_protocol import RpcError


def _audit(logged: LoggedIn) -> list[dict[str, object]]:
    result = logged.daemon.cli("audit", "--json")
    assert result.returncode == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)["records"]
    return records


def _wrong_code(logged: LoggedIn) -> str:
    right = pyotp.TOTP(logged.sandbox.user(logged.username).totp_secret).now()
    return f"{(int(right) + 500000) % 1000000:06d}"


def _exec_as_client(
    daemon: DaemonProcess, token: Path, command: str, **popen: Any
) -> subprocess.Popen[str]:
    """`jsctl exec web-01 -- COMMAND` started with the client's token (it waits for approval)."""
    env = {**daemon.env, "JSCTL_CLIENT_TOKEN": token.read_text().strip()}
    return subprocess.Popen([*JSCTL, "exec", "web-01", "--", command], env=env, text=True, **popen)


def _pending(daemon: DaemonProcess) -> list[dict[str, str]]:
    """The pending approval requests, once there is one (20 s at most)."""
    deadline = time.monotonic() + 20
    pending: list[dict[str, str]] = []
    while not pending and time.monotonic() < deadline:
        pending = json.loads(daemon.cli("approvals", "--json").stdout)["approvals"]
        time.sleep(0.1)
    assert pending, "no request was made"
    return pending


async def test_agent_reads_freely_and_its_rm_waits_for_an_mfa_checked_approval(
    logged_in: LoggedIn,
) -> None:
    daemon = logged_in.daemon
    victim = f"/tmp/jsctl-approval-{uuid.uuid4().hex[:8]}"
    assert daemon.cli("exec", "web-01", "--", f"touch {victim}").returncode == 0
    config = daemon.home / "project" / ".mcp.json"
    config.parent.mkdir()
    installed = daemon.cli(
        "mcp", "install", "claude", "--client", "careful", "--allow", "web-*",
        "--confirm", "writes", "--config", str(config), "--json",
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    token = Path(json.loads(installed.stdout)["token_file"])
    assert str(token) in config.read_text()  # the agent's config points at this token file
    async with connect_agent(daemon, token) as agent:
        looked = await agent.call("run", asset="web-01", command=f"ls -l {victim} | wc -l")
        assert not looked.is_error and looked.fields["state"] == "done", looked.text
        held = await agent.call("run", asset="web-01", command=f"rm {victim}")
        assert not held.is_error, held.text
        fields = held.fields
        assert fields["state"] == "awaiting_approval" and fields["asset"] == "web-01"
        assert fields["account"] and f"command: rm {victim}" in held.text
        approval_id = fields["id"]
        assert "jsctl approve " + approval_id in held.text
        still = await agent.call("read", id=approval_id)
        assert still.fields["state"] == "awaiting_approval"
        assert daemon.cli("exec", "web-01", "--", f"test -e {victim}").returncode == 0

        listed = daemon.cli("approvals", "--json")
        pending = json.loads(listed.stdout)["approvals"]
        assert [(a["id"], a["command"], a["client"]) for a in pending] == [
            (approval_id, f"rm {victim}", "careful")
        ]
        # A forged approval: a same-user shell without the person's authenticator.
        forged = daemon.cli("approve", approval_id, input="123456\n")
        assert forged.returncode != 0 and "refused the code" in forged.stderr
        wrong = daemon.cli("approve", approval_id, input=_wrong_code(logged_in) + "\n")
        assert wrong.returncode != 0 and "refused the code" in wrong.stderr
        empty = daemon.cli("approve", approval_id, input="")
        assert empty.returncode != 0
        # The agent's own token cannot decide at all.
        env = {"JSCTL_CLIENT_TOKEN": (await trio.Path(token).read_text()).strip()}
        as_agent = daemon.cli("approve", approval_id, "--otp-command", "echo 000000", env=env)
        assert as_agent.returncode != 0 and "not for agent client" in as_agent.stderr
        assert daemon.cli("exec", "web-01", "--", f"test -e {victim}").returncode == 0

        code = otp_command(logged_in.sandbox, logged_in.username)
        approved = daemon.cli("approve", approval_id, "--otp-command", code)
        assert approved.returncode == 0, approved.stderr
        assert "approved by mei (mfa)" in approved.stdout
        done = await agent.call("read", id=approval_id, wait=15)
        assert not done.is_error and done.fields["state"] == "done", done.text
        assert done.fields["exit"] == "0"
    assert daemon.cli("exec", "web-01", "--", f"test -e {victim}").returncode == 1
    records = _audit(logged_in)
    request = [r for r in records if r["action"] == "approval.request"]
    decision = [r for r in records if r["action"] == "approval.decision"]
    refused = [r for r in records if r["action"] == "approval.code_refused"]
    assert request[-1]["command"] == f"rm {victim}" and request[-1]["rule"] == "writes"
    assert decision[-1]["decision"] == "approved" and decision[-1]["decided_by"] == "mei"
    assert decision[-1]["channel"] == "mfa" and len(refused) == 2
    runs = [r for r in records if r["action"] == "run.start" and r["command"] == f"rm {victim}"]
    assert runs and runs[-1]["client"] == "careful"


async def test_denial_tells_the_agent_who_and_why_and_nothing_runs(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    async with new_agent(
        daemon, "denied", "--allow", "web-*", "--confirm", "command:*reboot*"
    ) as agent:
        free = await agent.call("run", asset="web-01", command="echo fine")
        assert free.fields["state"] == "done"
        held = await agent.call("run", asset="web-01", command="echo reboot-now > /tmp/x")
        approval_id = held.fields["id"]
        denied = daemon.cli("deny", approval_id, "--reason", "not during the sale")
        assert denied.returncode == 0 and "denied" in denied.stdout
        told = await agent.call("read", id=approval_id)
    assert told.is_error
    assert "denied" in told.text and "not during the sale" in told.text
    decision = [r for r in _audit(logged_in) if r["action"] == "approval.decision"][-1]
    assert decision["decision"] == "denied" and decision["reason"] == "not during the sale"
    again = daemon.cli("approve", approval_id, "--otp-command", "echo 123456")
    assert again.returncode != 0 and "denied" in again.stderr


async def test_input_and_close_are_held_and_carried_out_on_approval(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    async with new_agent(
        daemon, "typist", "--allow", "web-*", "--confirm", "kind:input|close"
    ) as agent:
        ran = await agent.call("run", asset="web-01", command="true")
        session = ran.fields["session"]
        held = await agent.call("input", session=session, text="echo typed-$((6*7))\r")
        assert held.fields["state"] == "awaiting_approval" and held.fields["kind"] == "input"
        assert "echo typed-$((6*7))\\r" in held.text
        code = otp_command(logged_in.sandbox, logged_in.username)
        assert daemon.cli("approve", held.fields["id"], "--otp-command", code).returncode == 0
        after = await agent.call("read", id=held.fields["id"], wait=10)
        assert after.fields["state"] == "approved", after.text
        screen = await agent.call("read", id=session, wait=2)
        assert "typed-42" in screen.text
        closing = await agent.call("close", session=session)
        assert closing.fields["state"] == "awaiting_approval"
        denied = daemon.cli("deny", closing.fields["id"])
        assert denied.returncode == 0
        alive = await agent.call("sessions")
    assert f"session={session}" in alive.text and "state=live" in alive.text


def test_codes_are_not_replayed_and_guessing_locks_approvals(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    token = create_client(daemon, "guesser", "--allow", "web-*", "--confirm", "all")
    env = {"JSCTL_CLIENT_TOKEN": token.read_text().strip()}
    ids = []
    for _ in range(2):
        started = daemon.cli("exec", "web-01", "--detach", "--", "uptime", env=env)
        assert started.returncode == 0, started.stderr
        ids.append(started.stdout.strip())
    assert all(i.startswith("ap-") for i in ids)
    code = pyotp.TOTP(logged_in.sandbox.user("mei").totp_secret).now()
    assert daemon.cli("approve", ids[0], input=code + "\n").returncode == 0
    replay = daemon.cli("approve", ids[1], input=code + "\n")
    assert replay.returncode != 0 and "already used" in replay.stderr
    for _ in range(5):
        daemon.cli("approve", ids[1], input=_wrong_code(logged_in) + "\n")
    fresh = pyotp.TOTP(logged_in.sandbox.user("mei").totp_secret)
    locked = daemon.cli("approve", ids[1], "--otp-command", f"echo {fresh.now()}")
    assert locked.returncode != 0 and "locked" in locked.stderr
    waited = daemon.cli("wait", ids[0], "--timeout", "15")
    assert waited.returncode == 0, waited.stderr


def test_cli_exec_as_a_client_waits_in_place_until_approved(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    token = create_client(daemon, "cliagent", "--allow", "web-*", "--confirm", "writes")
    command = "echo approved-$((1+1)) > /dev/null; echo ran-ok"
    process = _exec_as_client(
        daemon, token, command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        pending = _pending(daemon)
        assert pending[0]["client"] == "cliagent"
        assert process.poll() is None
        code = otp_command(logged_in.sandbox, "mei")
        assert daemon.cli("approve", pending[0]["id"], "--otp-command", code).returncode == 0
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "waiting" in err and pending[0]["id"] in err
    assert out.strip() == "ran-ok"


async def test_an_undecided_request_expires_as_denied(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    daemon.restart_with_config("[daemon]\napproval_timeout = 1.5\n")
    async with new_agent(daemon, "patient", "--allow", "web-*", "--confirm", "writes") as agent:
        held = await agent.call("run", asset="web-01", command="touch /tmp/never-approved")
        assert held.fields["state"] == "awaiting_approval" and "1.5" not in held.fields["id"]
        told = await agent.call("read", id=held.fields["id"], wait=10)
    assert told.is_error and "expired" in told.text
    late = daemon.cli("approve", held.fields["id"], "--otp-command", "echo 123456")
    assert late.returncode != 0 and "expired" in late.stderr
    decision = [r for r in _audit(logged_in) if r["action"] == "approval.decision"][-1]
    assert decision["decision"] == "expired" and decision["channel"] == "timeout"


def test_mcp_install_takes_confirm_rules_and_refuses_broken_ones(
    jsctl_daemon: DaemonProcess,
) -> None:
    config = jsctl_daemon.home / "project" / ".mcp.json"
    config.parent.mkdir()
    bad = jsctl_daemon.cli(
        "mcp", "install", "claude", "--allow", "web-*", "--confirm", "kind:reboot",
        "--config", str(config),
    )  # fmt: skip
    assert bad.returncode != 0 and "unknown kind(s) reboot" in bad.stderr
    assert not config.exists()
    good = jsctl_daemon.cli(
        "mcp", "install", "claude", "--allow", "web-*", "--confirm", "writes",
        "--confirm", "asset:db-*", "--config", str(config),
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert "jsctl approve ID" in good.stdout
    listed = json.loads(jsctl_daemon.cli("client", "ls", "--json").stdout)["clients"]
    assert listed[0]["confirm"] == ["writes", "asset:db-*"]


async def test_files_changes_are_held_and_approvals_follow_shows_them(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    token = create_client(daemon, "filer", "--allow", "web-*", "--confirm", "kind:files-delete")
    follower = subprocess.Popen(  # noqa: ASYNC220 - runs beside the test, read by a thread
        [*JSCTL, "approvals", "--follow"],
        env=daemon.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(follower.stdout.readline, "")) if follower.stdout else None
    )
    reader.start()
    try:
        async with connect_agent(daemon, token) as agent:
            made = await agent.call("files", action="mkdir", asset="web-01", path="held-dir")
            assert not made.is_error, made.text
            held = await agent.call(
                "files", action="rm", asset="web-01", path="held-dir", recursive=True
            )
            assert held.fields["state"] == "awaiting_approval", held.text
            assert held.fields["kind"] == "files-delete" and "remove held-dir" in held.text
            listing = await agent.call("files", action="ls", asset="web-01")
            assert "held-dir" in listing.text
            code = otp_command(logged_in.sandbox, "mei")
            assert daemon.cli("approve", held.fields["id"], "--otp-command", code).returncode == 0
            after = await agent.call("read", id=held.fields["id"], wait=10)
            assert after.fields["state"] == "approved" and not after.is_error, after.text
            gone = await agent.call("files", action="ls", asset="web-01")
            assert "held-dir" not in gone.text
            deadline = time.monotonic() + 10
            while not any(" approved by mei" in line for line in lines):
                assert time.monotonic() < deadline, lines
                await trio.sleep(0.1)
    finally:
        follower.terminate()
        follower.wait(10)
        reader.join(10)
    assert any(line.startswith("new: " + held.fields["id"]) for line in lines), lines


def test_a_waiting_cli_that_goes_away_withdraws_its_request_and_bad_calls_are_refused(
    logged_in: LoggedIn,
) -> None:
    daemon = logged_in.daemon
    token = create_client(daemon, "leaver", "--allow", "web-*", "--confirm", "all")
    quiet = subprocess.DEVNULL
    process = _exec_as_client(daemon, token, "touch /tmp/never", stdout=quiet, stderr=quiet)
    try:
        pending = _pending(daemon)
    finally:
        process.kill()
        process.wait(10)
    approval_id = pending[0]["id"]
    deadline = time.monotonic() + 10
    state = "pending"
    while state == "pending" and time.monotonic() < deadline:
        listed = json.loads(daemon.cli("approvals", "--all", "--json").stdout)["approvals"]
        state = next(a["state"] for a in listed if a["id"] == approval_id)
        time.sleep(0.1)
    assert state == "withdrawn"
    late = daemon.cli("approve", approval_id, "--otp-command", "echo 123456")
    assert late.returncode != 0 and "withdrawn" in late.stderr
    with daemon.client() as person:
        for params, says in (
            ({"ids": [], "approve": True, "code": "123456"}, "must list"),
            ({"ids": [7], "approve": False}, "ids"),
            ({"ids": ["ap-1"], "approve": False}, "no approval request"),
            ({"ids": [approval_id], "approve": True}, "already withdrawn"),
        ):
            try:
                person.call("approval.decide", **params)
            except RpcError as exc:
                assert says in exc.message, (params, exc.message)
            else:
                raise AssertionError(f"accepted {params}")
        bad_secret = None
        try:
            person.call("secret.send", session="nope", secret="x")
        except RpcError as exc:
            bad_secret = exc.message
        assert bad_secret and "nope" in bad_secret
        assert person.call("ping") is not None  # the daemon is fine
    with daemon.client(token=token.read_text().strip()) as agent:
        mine = agent.call("approval.get", id=approval_id)["approval"]
        assert mine["state"] == "withdrawn"
        try:
            agent.call("approval.decide", ids=[approval_id], approve=False)
        except RpcError as exc:
            assert "not for agent client" in exc.message
        else:
            raise AssertionError("an agent decided a request")


async def test_revoking_a_client_denies_its_pending_requests(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    async with new_agent(daemon, "revokee", "--allow", "web-*", "--confirm", "writes") as agent:
        held = await agent.call("run", asset="web-01", command="touch /tmp/revoked-run")
        approval_id = held.fields["id"]
        assert daemon.cli("client", "revoke", "revokee").returncode == 0
    listed = json.loads(daemon.cli("approvals", "--all", "--json").stdout)["approvals"]
    mine = next(a for a in listed if a["id"] == approval_id)
    assert mine["state"] == "denied" and mine["channel"] == "revocation"
    late = daemon.cli("approve", approval_id, "--otp-command", "echo 123456")
    assert late.returncode != 0 and "denied" in late.stderr
