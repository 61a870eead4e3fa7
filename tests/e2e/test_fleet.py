"""`jsctl exec` on many assets through the real daemon and a sandbox with generated assets.

The sandbox has 40 generated hosts (web-00001, db-00002, … every one under /Default/fleet/
rack-001) beside the defaults (web-01, web-02 under /Default/web, db-01, …). Each asset is a
real bash whose $HOSTNAME is its name, so one command can behave differently per asset.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from jsctl_fixtures import LoggedIn, fleet_login
from jsctl_testing import JSCTL

from jsctl_protocol import ErrorCode, RpcError

GENERATED = 40
WEB = sorted(["web-01", "web-02", *(f"web-{i:05d}" for i in range(1, GENERATED + 1, 5))])
CONFIRM_OVER = 12


@pytest.fixture(scope="module")
def fleet() -> Iterator[LoggedIn]:
    """A daemon logged in to a sandbox with generated assets (a selection over 12 needs --yes)."""
    settings = f"max_sessions_per_profile = 0\nfleet_confirm_over = {CONFIRM_OVER}\n"
    with fleet_login(GENERATED, settings) as logged:
        yield logged


def _names(stdout: str) -> list[str]:
    return [line.split()[0] for line in stdout.splitlines()[1:-1]]


def _json_lines(stdout: str) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in stdout.splitlines()]
    return {str(row["asset"]): row for row in rows}


# Prints `active`, except on web-00006 (`inactive`, exit 3): the classic fleet question.
IS_ACTIVE = "systemctl is-active nginx"  # the sandbox stopped it on generated hosts NNN06/NNN56


def test_selection_by_glob_address_list_and_node(fleet: LoggedIn) -> None:
    cli = fleet.daemon.cli
    by_glob = cli("exec", "web-*", "--dry-run", "--", "true")
    assert by_glob.returncode == 0, by_glob.stderr
    assert _names(by_glob.stdout) == WEB and by_glob.stdout.endswith(f"{len(WEB)} assets\n")
    by_address = cli("exec", "10.0.1.*", "--dry-run", "--", "true")
    assert _names(by_address.stdout) == ["web-01", "web-02"]
    by_list = cli("exec", "db-01,web-0000*", "--dry-run", "--", "true")
    assert _names(by_list.stdout) == ["db-01", "web-00001", "web-00006"]
    node = cli("exec", "--node", "/Default/web", "--dry-run", "--", "true")
    assert _names(node.stdout) == ["web-01", "web-02"]
    subtree = cli("--json", "exec", "--node", "/Default/fleet", "--dry-run", "--", "true")
    assert len(subtree.stdout.splitlines()) == GENERATED  # rack-001 lies under /Default/fleet
    both = cli("exec", "--node", "/Default/fleet", "db-*", "--dry-run", "--", "true")
    assert "db-01" not in both.stdout and "db-00002" in both.stdout
    nothing = cli("exec", "nosuch-*", "--", "true")
    assert nothing.returncode == 1 and "no asset you may use matches `nosuch-*`" in nothing.stderr
    unknown = cli("exec", "web-01,no-such-host", "--", "true")
    assert unknown.returncode == 1 and "no-such-host" in unknown.stderr
    no_account = cli("--json", "exec", "web-01,web-02", "-a", "nobody", "--", "true")
    assert no_account.returncode == 5  # not run: no such account on either asset
    assert {r["state"] for r in _json_lines(no_account.stdout).values()} == {"refused"}


def test_mixed_exit_statuses_grouped_per_asset_and_summarised(fleet: LoggedIn) -> None:
    result = fleet.daemon.cli("exec", "web-*", "--", IS_ACTIVE)
    assert result.returncode == 4, result.stderr  # some failed
    out = result.stdout
    assert "── web-00006 (exit 3" in out and "inactive\n" in out
    assert out.count("active\n") == len(WEB)  # `inactive` ends in it too
    table = [line.split() for line in out.splitlines() if line.startswith("web-")]
    assert {row[0]: row[1] for row in table} == {n: "3" if n == "web-00006" else "0" for n in WEB}
    assert f"{len(WEB)} assets: {len(WEB) - 1} ok, 1 failed, 0 unreachable" in out
    grouped = fleet.daemon.cli("exec", "web-*", "--group", "--", IS_ACTIVE)
    assert grouped.returncode == 4
    assert grouped.stdout.splitlines() == [
        "1 asset (exit 3): inactive — web-00006",
        f"{len(WEB) - 1} assets: active",
    ]
    everyone = fleet.daemon.cli("exec", "web-0*", "--group", "--", "echo same")
    assert everyone.returncode == 0 and everyone.stdout == f"{len(WEB)} assets: same\n"


def test_json_lines_one_object_per_asset(fleet: LoggedIn) -> None:
    result = fleet.daemon.cli("--json", "exec", "web-*", "--", IS_ACTIVE)
    assert result.returncode == 4
    rows = _json_lines(result.stdout)
    assert sorted(rows) == WEB
    for name, row in rows.items():
        assert row["account"] == "deploy" and row["stderr"] == ""
        assert row["exit_status"] == (3 if name == "web-00006" else 0)
        assert row["stdout"] == ("inactive\n" if name == "web-00006" else "active\n")
        assert isinstance(row["duration_s"], float) and row["handle"]


def test_stdout_and_stderr_apart_and_a_prompt_is_not_waited_for(fleet: LoggedIn) -> None:
    both = fleet.daemon.cli("--json", "exec", "web-0*", "--", "echo out; echo err >&2")
    assert both.returncode == 0, both.stderr
    assert {(r["stdout"], r["stderr"]) for r in _json_lines(both.stdout).values()} == {
        ("out\n", "err\n")
    }
    shown = fleet.daemon.cli("exec", "web-01,web-02", "--", "echo out; echo err >&2")
    assert "── web-02 (exit 0" in shown.stdout and "\nout\n[stderr]\nerr\n" in shown.stdout
    asks = (
        'if [ "$HOSTNAME" = web-00006 ]; then printf "Password: " >/dev/tty;'
        " read -r secret </dev/tty; fi; echo done"
    )
    started = time.monotonic()
    prompted = fleet.daemon.cli("--json", "exec", "web-*", "--", asks, timeout=60)
    rows = _json_lines(prompted.stdout)
    assert prompted.returncode == 4, prompted.stderr
    assert rows["web-00006"]["state"] == "waiting_input"
    assert "Password:" in str(rows["web-00006"]["error"])
    assert all(r["stdout"] == "done\n" for n, r in rows.items() if n != "web-00006")
    assert time.monotonic() - started < 20  # interrupted at the prompt, not left hanging


def test_confirmation_over_the_limit_then_a_large_parallel_run(fleet: LoggedIn) -> None:
    cli = fleet.daemon.cli
    refused = cli("exec", "--node", "/Default/fleet", "--", "echo up")
    assert refused.returncode == 1
    assert f"selects {GENERATED} assets, more than {CONFIRM_OVER}" in refused.stderr
    assert "--yes" in refused.stderr
    ran = cli("exec", "--node", "/Default/fleet", "--yes", "-P", "8", "--group", "--", "echo up")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"{GENERATED} assets: up\n"


def test_per_asset_timeout_and_a_dropped_terminal_do_not_stop_the_others(
    fleet: LoggedIn,
) -> None:
    control = fleet.sandbox.control()
    slow = 'if [ "$HOSTNAME" = web-00011 ]; then sleep 30; fi; echo finished'
    timed = fleet.daemon.cli("--json", "exec", "web-*", "--timeout", "2", "--", slow)
    rows = _json_lines(timed.stdout)
    assert timed.returncode == 4
    assert rows["web-00011"]["state"] == "timeout"
    assert all(r["stdout"] == "finished\n" for n, r in rows.items() if n != "web-00011")
    # web-00016's terminal is cut mid-command (its output carries the sandbox's drop marker).
    control.koko(drop_on_output="FLEET-DROP")
    try:
        drop = (
            'sleep 0.3; if [ "$HOSTNAME" = web-00016 ]; then printf "FLEET-%s\\n" DROP; fi;'
            " sleep 0.5; echo finished"
        )
        dropped = fleet.daemon.cli("--json", "exec", "web-*", "--", drop, timeout=120)
    finally:
        control.reset()
    rows = _json_lines(dropped.stdout)
    assert dropped.returncode == 5, dropped.stderr  # an asset was lost
    assert rows["web-00016"]["state"] == "lost" and rows["web-00016"]["exit_status"] is None
    assert all(
        r["stdout"] == "finished\n" and r["exit_status"] == 0
        for n, r in rows.items()
        if n != "web-00016"
    )
    again = fleet.daemon.cli("exec", "web-00016", "--", "echo back")
    assert again.returncode == 0 and again.stdout == "back\n"  # a new session replaces it


def test_ctrl_c_interrupts_every_run_and_says_which(fleet: LoggedIn) -> None:
    process = subprocess.Popen(
        [*JSCTL, "exec", "web-*", "--prefix", "--", "echo started; sleep 30"],
        env=fleet.daemon.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    started = {process.stdout.readline().split(":")[0] for _ in WEB}
    assert started == set(WEB)  # every run is under way: each printed its first line
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    stderr = process.stderr.read()
    assert "interrupted: " + ", ".join(WEB) in stderr
    after = fleet.daemon.cli("exec", "web-*", "--group", "--", "echo alive")
    assert after.returncode == 0 and after.stdout == f"{len(WEB)} assets: alive\n"


def test_detached_fleet_handle_for_wait_and_logs(fleet: LoggedIn) -> None:
    cli = fleet.daemon.cli
    started = cli("exec", "web-0*", "--detach", "--", "sleep 0.5; echo $HOSTNAME; (exit 2)")
    handle = started.stdout.strip()
    assert started.returncode == 0 and handle.startswith("fleet-")
    waited = cli("wait", handle)
    assert waited.returncode == 4
    assert f"{len(WEB)} assets: 0 ok, {len(WEB)} failed" in waited.stdout
    one = cli("wait", f"{handle}/web-02")
    assert one.returncode == 2
    logs = cli("logs", handle)
    assert logs.stdout.count("── ") == len(WEB) and "── web-01 (exit 2)\nweb-01\n" in logs.stdout
    assert cli("logs", f"{handle}/web-02").stdout == "web-02\n"
    slow = cli("exec", "web-01,web-02", "--detach", "--", "sleep 1; echo late").stdout.strip()
    followed = cli("logs", "--follow", slow)
    assert followed.stdout.count("late\n") == 2  # --follow waited for the end
    sleeping = cli("exec", "web-01,web-02", "--detach", "--", "sleep 30").stdout.strip()
    time.sleep(1.0)
    stopped = cli("interrupt", sleeping)
    assert stopped.returncode == 0 and stopped.stdout == "interrupted: web-01, web-02\n"
    assert cli("wait", sleeping, "--timeout", "20").returncode == 130
    missing = cli("wait", "fleet-nosuchxx")
    assert missing.returncode == 1 and "no fleet" in missing.stderr


def test_audit_records_one_fleet_with_its_selector_and_every_run(fleet: LoggedIn) -> None:
    cli = fleet.daemon.cli
    result = cli("--json", "exec", "--node", "/Default/web", "--", "echo audited")
    assert result.returncode == 0
    records = json.loads(cli("audit", "--json").stdout)["records"]
    start = [r for r in records if r["action"] == "fleet.start" and r["command"] == "echo audited"]
    assert len(start) == 1
    fleet_id = start[0]["fleet"]
    assert start[0]["selector"] == {"node": "/Default/web"}
    assert start[0]["assets"] == ["web-01", "web-02"]
    runs = [r for r in records if r.get("fleet") == fleet_id and r["action"] == "run.end"]
    assert sorted(r["asset"] for r in runs) == ["web-01", "web-02"]
    assert all(r["exit_status"] == 0 for r in runs)
    end = [r for r in records if r["action"] == "fleet.end" and r["fleet"] == fleet_id]
    assert end[0]["results"] == {"web-01": 0, "web-02": 0}


def test_an_agent_selects_only_within_its_allow_list(fleet: LoggedIn) -> None:
    daemon = fleet.daemon
    token_file = daemon.home / "fleet-agent.token"
    created = daemon.cli(
        "client", "create", "fleet-agent", "--allow", "web-0000*", "--token-file", str(token_file)
    )
    assert created.returncode == 0, created.stderr
    with daemon.client(token=token_file.read_text().strip()) as agent:
        listing = agent.call("fleet.start", command="true", assets=["*"], dry_run=True)
        assert [row["asset"] for row in listing["assets"]] == ["web-00001", "web-00006"]
        with pytest.raises(RpcError) as hidden:
            agent.call("fleet.start", command="true", assets=["db-*"])
        assert hidden.value.code == ErrorCode.NOT_FOUND and "db-0" not in hidden.value.message
        with pytest.raises(RpcError) as outside:
            agent.call("fleet.start", command="true", assets=["web-00001", "db-01"])
        assert outside.value.code == ErrorCode.NOT_FOUND  # not FORBIDDEN: that would tell
        assert "10.0.2.21" not in outside.value.message  # db-01's address stays unknown
        ran = agent.call("fleet.start", command="echo hi", assets=["web-*"], wait=60)
        assert ran["counts"]["ok"] == 2 and ran["state"] == "done"
    daemon.cli("client", "revoke", "fleet-agent")
    wide_file = daemon.home / "fleet-wide.token"
    daemon.cli("client", "create", "fleet-wide", "--allow", "*", "--token-file", str(wide_file))
    with (
        daemon.client(token=wide_file.read_text().strip()) as agent,
        pytest.raises(RpcError) as not_a_person,  # an agent cannot say --yes for a person
    ):
        agent.call("fleet.start", command="true", node="/Default/fleet", yes=True)
    assert not_a_person.value.code == ErrorCode.LIMIT and "agent" in not_a_person.value.message
    daemon.cli("client", "revoke", "fleet-wide")


def test_a_client_that_goes_away_leaves_the_fleet_running(fleet: LoggedIn) -> None:
    with fleet.daemon.client() as client:
        stream = client.stream(
            "fleet.start", command="sleep 1; echo done", assets=["web-0*"], stream=True
        )
        handle = next(iter(stream))["fleet"]
    # that connection is gone mid-fleet; the fleet is the daemon's, not the connection's
    with fleet.daemon.client() as client:
        final = client.call("fleet.get", handle=handle, timeout=60, max_bytes=100)
    assert final["state"] == "done" and final["counts"]["ok"] == len(WEB)
    assert {r["stdout"] for r in final["results"]} == {b"done\r\n"}


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"command": "true"}, "say which assets"),
        ({"command": "  ", "assets": ["web-01"]}, "command is empty"),
        ({"command": "true", "assets": [7]}, "`assets[]` must be str"),
        ({"command": "true", "assets": [""]}, "must list names or globs"),
        ({"command": "true", "assets": ["web-01"], "parallel": 0}, "`parallel` must be at least 1"),
        ({"command": "true", "assets": ["web-01"], "parallel": 10**6}, "must be at most"),
        ({"command": "true", "assets": ["web-01"], "timeout": -1}, "`timeout` must be at least 0"),
        ({"command": "true", "assets": "web-*"}, "must be list"),
        ({"command": "true", "node": "/No/Such/Node"}, "node"),
    ],
)
def test_bad_fleet_requests_get_a_clear_error_and_the_daemon_lives(
    fleet: LoggedIn, params: dict[str, object], complaint: str
) -> None:
    with fleet.daemon.client() as client:
        with pytest.raises(RpcError) as refused:
            client.call("fleet.start", **params)
        assert complaint in refused.value.message
        assert client.call("ping")["pong"] is True


def test_an_agent_sees_only_its_own_fleets(fleet: LoggedIn) -> None:
    daemon = fleet.daemon
    mine = daemon.cli("exec", "web-01,web-02", "--detach", "--", "true").stdout.strip()
    token_file = daemon.home / "fleet-peeker.token"
    daemon.cli("client", "create", "fleet-peeker", "--allow", "*", "--token-file", str(token_file))
    with daemon.client(token=token_file.read_text().strip()) as agent:
        for method in ("fleet.get", "fleet.interrupt"):
            with pytest.raises(RpcError) as hidden:
                agent.call(method, handle=mine)
            assert hidden.value.code == ErrorCode.NOT_FOUND
    daemon.cli("client", "revoke", "fleet-peeker")


def test_progress_at_a_terminal_then_clean_output(fleet: LoggedIn) -> None:
    controller, terminal = pty.openpty()  # stderr is a terminal: progress is drawn there
    try:
        result = subprocess.run(
            [*JSCTL, "exec", "web-0*", "--group", "--", "sleep 0.3; echo fine"],
            env=fleet.daemon.env, stdout=subprocess.PIPE, stderr=terminal, text=True,
            timeout=60,
        )  # fmt: skip
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once everything written has been read
            while chunk := os.read(controller, 65536):
                shown += chunk
    finally:
        os.close(controller)
    assert result.returncode == 0 and result.stdout == f"{len(WEB)} assets: fine\n"
    screen = shown.decode()
    assert f"/{len(WEB)} done · 0 failed · " in screen and " running" in screen
    assert f"{len(WEB)}/{len(WEB)} done · 0 failed · 0 running" in screen
    assert "\x1b[K" in screen  # the progress line is erased before the summary
    assert f"{len(WEB)} assets: {len(WEB)} ok, 0 failed, 0 unreachable" in screen
