"""`jsctl exec` judged as `ssh host 'cmd'`: statuses, a person's shell left alone, stdin, stderr,
prompts, --json — through the real daemon, the sandbox over HTTPS/WSS and real PTYs."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from jsctl_fixtures import LoggedIn
from jsctl_testing import JSCTL, detach_and_close, drain_pty, in_a_terminal


@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("echo hi; exit 3", 3),
        ("set -e; false; echo not-reached", 1),
        ("false || exit 4", 4),
        ("exec true", 0),
        ("kill $$", 143),
        ("logout", 1),  # as with ssh: a `-c` shell is no login shell
    ],
)
def test_the_status_is_the_commands_own_and_the_next_command_works(
    shared_login: LoggedIn, command: str, status: int
) -> None:
    cli = shared_login.daemon.cli
    result = cli("exec", "web-01", "--", command)
    assert result.returncode == status, result.stderr
    assert "lost" not in result.stderr
    after = cli("exec", "web-01", "--", "echo next")
    assert (after.returncode, after.stdout) == (0, "next\n"), after.stderr


def test_stdout_and_stderr_arrive_apart_and_tty_merges_them(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    both = "echo out; echo err >&2; exit 2"
    apart = cli("exec", "web-01", "--", both)
    assert (apart.returncode, apart.stdout, apart.stderr) == (2, "out\n", "err\n")
    quiet = "echo out; { echo err >&2; } 2>/dev/null; ls /n 2>/dev/null"
    hidden = cli("exec", "web-01", "--", quiet)
    assert (hidden.stdout, hidden.stderr) == ("out\n", "")
    merged = cli("exec", "-t", "web-01", "--", both)
    assert merged.returncode == 2 and merged.stdout == "out\nerr\n" and merged.stderr == ""
    as_json = json.loads(cli("--json", "exec", "web-01", "--", both).stdout)
    assert (as_json["exit_status"], as_json["output"], as_json["stderr"]) == (2, "out\n", "err\n")


def test_binary_output_stays_byte_exact_and_stdin_is_piped(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    payload = bytes(range(256)) * 64
    sent = subprocess.run(
        [*JSCTL, "exec", "web-01", "--", "cat"], env=daemon.env, input=payload,
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    # The terminal turns LF into CRLF and exec turns it back: a lone CR is all it cannot keep.
    assert sent.stdout == payload.replace(b"\r\n", b"\n")


def test_a_prompt_is_reported_within_seconds_with_its_own_exit_status(
    shared_login: LoggedIn,
) -> None:
    cli = shared_login.daemon.cli
    started = time.monotonic()
    result = cli("exec", "-t", "web-01", "--", 'read -s -p "Password: " pw; echo got', timeout=30)
    assert time.monotonic() - started < 8
    assert result.returncode == 125, result.stderr
    assert "waiting for input at 'Password:'" in result.stderr
    assert "got" not in result.stdout
    after = cli("exec", "web-01", "--", "echo next")  # interrupted: the pool goes on
    assert (after.returncode, after.stdout) == (0, "next\n")


def test_non_interactive_defaults_for_execs_child(shared_login: LoggedIn) -> None:
    shown = "echo $PAGER/$GIT_PAGER/$DEBIAN_FRONTEND"
    result = shared_login.daemon.cli("exec", "web-01", "--", shown)
    assert result.stdout == "cat/cat/noninteractive\n"


def test_exec_never_types_into_a_persons_half_typed_line(shared_login: LoggedIn) -> None:
    """The issue's story: `rm -rf /tmp/x` half typed in `jsctl shell` while exec runs."""
    daemon = shared_login.daemon
    pid, fd = in_a_terminal(daemon.env, "shell", "web-02", "--name", "persons-shell")
    try:
        assert b"root@web-02" in drain_pty(fd, 10.0, b"root@web-02")
        os.write(fd, b"echo rm -rf /tmp/x")
        assert b"/tmp/x" in drain_pty(fd, 5.0, b"/tmp/x")
        for _ in range(3):
            result = daemon.cli("exec", "web-02", "--", "echo X")
            assert (result.returncode, result.stdout) == (0, "X\n"), result.stderr
        refused = daemon.cli("exec", "--session", "persons-shell", "--", "echo never")
        assert refused.returncode != 0 and "is attached to it" in refused.stderr
        seen = drain_pty(fd, 1.0)
        assert b"7391" not in seen and b"never" not in seen  # nothing reached the person
        os.write(fd, b" done\r")  # the person's own line is intact and runs as typed
        assert b"rm -rf /tmp/x done" in drain_pty(fd, 5.0, b"rm -rf /tmp/x done")
        sessions = json.loads(daemon.cli("--json", "sessions").stdout)["sessions"]
        shell = next(s for s in sessions if s["name"] == "persons-shell")
        assert shell["purpose"] == "shell"
        assert any(s["purpose"] == "exec" and s["asset"] == "web-02" for s in sessions)
    finally:
        detach_and_close(pid, fd)
    daemon.cli("kill", "persons-shell")


def test_a_program_left_holding_execs_terminal_never_takes_the_next_command(
    shared_login: LoggedIn,
) -> None:
    """vi ignores Ctrl-C: exec closes that session of its own and the next exec gets another."""
    cli = shared_login.daemon.cli
    held = cli("exec", "-t", "--timeout", "1", "db-01", "--", "vi /tmp/jsctl-vi.txt", timeout=60)
    assert held.returncode == 124
    after = cli("exec", "db-01", "--", "echo hi", timeout=30)
    assert (after.returncode, after.stdout) == (0, "hi\n"), after.stderr


def test_execs_at_once_on_one_asset_each_get_a_shell_of_their_own(shared_login: LoggedIn) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cli = shared_login.daemon.cli
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda i: cli("exec", "web-02", "--", f"sleep 0.5; echo n{i}"),
                                range(6)))  # fmt: skip
    assert [(r.returncode, r.stdout) for r in results] == [(0, f"n{i}\n") for i in range(6)], [
        r.stderr for r in results
    ]


def test_execs_stderr_file_goes_with_its_session(shared_login: LoggedIn) -> None:
    """One private (0600) file per exec session holds stderr; it is removed when the shell ends."""
    daemon = shared_login.daemon
    shown = daemon.cli("--json", "exec", "db-01", "--", 'echo "$_jsctl_e"; ls -l "$_jsctl_e"')
    result = json.loads(shown.stdout)
    path = result["output"].splitlines()[0]
    assert os.path.isfile(path) and result["output"].splitlines()[1].startswith("-rw-------")
    daemon.cli("kill", result["session"])
    deadline = time.monotonic() + 10
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(path)
