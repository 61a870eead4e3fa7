"""`jsctl exec` and runs through the real daemon, the real sandbox (HTTPS/WSS) and real shells."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time

import pytest
from jsctl_fixtures import LoggedIn
from jsctl_testing import JSCTL

from jsctl_protocol import ErrorCode, RpcError


@pytest.mark.parametrize(
    ("command", "status", "output"),
    [
        ("echo ok", 0, "ok\n"),
        ("false", 1, ""),
        ("no-such-command-xyz 2>/dev/null", 127, ""),
        ("printf 'a\\nb\\n'; (exit 7)", 7, "a\nb\n"),
        ("printf 'caf\\303\\251 \\342\\234\\223\\n'", 0, "café ✓\n"),
        ('echo "quotes \' and \\" and $((6*7))"', 0, "quotes ' and \" and 42\n"),
    ],
)
def test_exit_status_and_output(
    shared_login: LoggedIn, command: str, status: int, output: str
) -> None:
    result = shared_login.daemon.cli("exec", "web-01", "--", command)
    assert result.returncode == status, result.stderr
    assert result.stdout == output


def test_each_exec_starts_fresh_as_with_ssh(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    home = cli("exec", "web-02", "--", "echo $PWD").stdout
    assert cli("exec", "web-02", "--", "cd /tmp && export JSCTL_T=42").returncode == 0
    result = cli("exec", "web-02", "--", "echo ${JSCTL_T:-unset} $PWD")
    assert result.stdout == f"unset {home}"


def test_stdin_goes_to_the_remote_command_and_is_audited_by_size_only(
    shared_login: LoggedIn,
) -> None:
    daemon = shared_login.daemon
    payload = os.urandom(300_000)
    sent = subprocess.run(
        [*JSCTL, "exec", "--stdin", "web-01", "--", "cat >jsctl-in.bin; sha256sum jsctl-in.bin"],
        env=daemon.env, input=payload, capture_output=True, timeout=120,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.split()[0].decode() == hashlib.sha256(payload).hexdigest()
    piped = daemon.cli("exec", "web-01", "--", "wc -c", input="forwarded\n")
    assert piped.stdout.strip() == "10"  # as with ssh, piped input reaches the command
    without = daemon.cli("exec", "-n", "web-01", "--", "wc -c", input="not forwarded\n")
    assert without.stdout.strip() == "0"  # -n: the command's input is empty
    too_big = subprocess.run(
        [*JSCTL, "exec", "-i", "web-01", "--", "wc -c"],
        env=daemon.env, input=b"x" * ((1 << 20) + 1), capture_output=True, timeout=60,
    )  # fmt: skip
    assert too_big.returncode == 2 and b"jsctl cp" in too_big.stderr
    with daemon.client() as client, pytest.raises(RpcError) as refused:  # other clients too
        client.call("run.start", asset="web-01", command="wc -c", stdin=b"x" * (2 << 20))
    assert refused.value.code == ErrorCode.LIMIT and "jsctl cp" in refused.value.message
    records = json.loads(daemon.cli("audit", "--json").stdout)["records"]
    started = [r for r in records if r["action"] == "run.start" and "jsctl-in" in r["command"]]
    assert started and started[-1]["stdin_bytes"] == 300_000
    assert payload[:64].hex() not in json.dumps(records)


def test_timeout_interrupts_and_leaves_a_usable_shell(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    started = time.monotonic()
    result = cli("exec", "db-01", "--timeout", "1", "--", "echo out; echo oops >&2; sleep 30")
    assert result.returncode == 124
    assert "timed out" in result.stderr
    assert result.stdout == "out\n"
    assert "oops" in result.stderr  # what it wrote before the Ctrl-C is kept, and apart
    assert time.monotonic() - started < 20
    after = cli("exec", "db-01", "--", "echo alive")
    assert after.returncode == 0 and after.stdout == "alive\n"
    assert "oops" not in after.stderr  # and not handed to the next command


def test_ctrl_c_on_jsctl_exec_interrupts_the_remote_command(shared_login: LoggedIn) -> None:
    other = json.loads(
        shared_login.daemon.cli("--json", "exec", "--detach", "web-02", "--", "sleep 20").stdout
    )
    job = "sh -c 'echo dying words >&2; echo started; exec sleep 30'"  # prints once running
    process = subprocess.Popen(
        [*JSCTL, "exec", "db-01", "--", job],
        env=shared_login.daemon.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "started\n"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert process.stderr is not None and "dying words" in process.stderr.read()
    after = shared_login.daemon.cli("exec", "db-01", "--", "echo alive")
    assert after.stdout == "alive\n"
    # only this exec's run was interrupted: another session's run goes on
    bystander = json.loads(
        shared_login.daemon.cli("--json", "wait", other["handle"], "--timeout", "0.1").stdout
    )
    assert bystander["state"] == "running"
    shared_login.daemon.cli("interrupt", other["handle"])


def test_detach_wait_logs(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    started = cli(
        "--json",
        "exec",
        "--detach",
        "web-01",
        "--",
        "for i in 1 2 3; do echo line $i; sleep 0.2; done; (exit 5)",
    )
    handle = json.loads(started.stdout)["handle"]
    waited = cli("wait", handle)
    assert waited.returncode == 5
    logs = cli("logs", handle)
    assert logs.stdout.replace("\r\n", "\n") == "line 1\nline 2\nline 3\n"


def test_retry_with_same_request_id_runs_once(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    marker = f"/tmp/jsctl-idem-{time.time_ns()}"
    args = ["exec", "web-01", "--request-id", marker, "--", f"echo run >> {marker}; cat {marker}"]
    first, second = cli(*args), cli(*args)
    assert first.returncode == second.returncode == 0
    assert second.stdout == first.stdout == "run\n"  # the retry returned the first run


def test_large_output_streams_in_order(shared_login: LoggedIn) -> None:
    result = shared_login.daemon.cli("exec", "web-02", "--", "seq 1 200000", timeout=120)
    assert result.returncode == 0
    numbers = result.stdout.split("\n")
    assert numbers[:-1] == [str(i) for i in range(1, 200001)]


def test_interrupt_from_another_process(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    started = json.loads(daemon.cli("--json", "exec", "--detach", "db-01", "--", "sleep 60").stdout)
    time.sleep(0.5)
    assert daemon.cli("interrupt", started["handle"]).returncode == 0
    waited = daemon.cli("wait", started["handle"], "--timeout", "20")
    assert waited.returncode == 130


def test_scripts_without_a_tty_and_unknown_asset(shared_login: LoggedIn) -> None:
    process = subprocess.run(
        [*JSCTL, "exec", "no-such-asset", "--", "true"],
        env=shared_login.daemon.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert "no-such-asset" in process.stderr and "Traceback" not in process.stderr
