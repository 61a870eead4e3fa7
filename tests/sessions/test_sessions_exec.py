"""exec on real PTY shells: exit statuses, awkward commands, streaming, timeouts, idempotency."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import trio
from sessions_support import exec_run

from jsctl_daemon.sessions import (
    OpenRequest,
    RunState,
    SessionBusy,
    SessionError,
    SessionManager,
)

ManagerFactory = Callable[..., AbstractAsyncContextManager[SessionManager]]
MakeRequest = Callable[..., OpenRequest]

# A job that prints `go` once it is itself running in the foreground. With `echo go; sleep 60`
# a Ctrl-C sent the moment `go` appears can land while bash is still starting `sleep`; bash's
# job control then loses the terminal in about one run of thirty (bash exits, sleep lives on).
RUNNING_JOB = "sh -c 'echo go; exec sleep 60'"


async def _exec(manager: SessionManager, sid: str, command: str, **kw: Any) -> tuple[Any, bytes]:
    kw.setdefault("owner", "cli")
    kw.setdefault("time_limit_s", 30)
    result = await exec_run(manager, sid, command, max_bytes=1 << 20, **kw)
    return result.run, result.output.data


@pytest.mark.parametrize(
    ("command", "status", "output"),
    [
        ("echo hello", 0, b"hello\r\n"),
        ("false", 1, b""),
        ("definitely-not-a-command-xyz", 127, None),
        ("(exit 130)", 130, b""),
        ("printf 'no newline'", 0, b"no newline"),
    ],
)
async def test_exit_status_is_the_real_one(
    manager: SessionManager,
    make_request: MakeRequest,
    command: str,
    status: int,
    output: bytes | None,
) -> None:
    sid = (await manager.open(make_request())).id
    run, data = await _exec(manager, sid, command)
    assert run.state is RunState.DONE
    assert run.exit_status == status
    if output is not None:
        assert data == output
    else:
        assert b"not found" in data


async def test_awkward_commands(manager: SessionManager, make_request: MakeRequest) -> None:
    sid = (await manager.open(make_request())).id
    cases: list[tuple[str, int, bytes | None]] = [
        ("""echo "it's" 'say "hi"' \\$HOME""", 0, b'it\'s say "hi" $HOME\r\n'),
        ("false; echo status=$?", 0, b"status=1\r\n"),
        ("echo one\necho two", 0, b"one\r\ntwo\r\n"),
        ("cat <<'EOF'\n\tindented $x\nEOF", 0, b"\tindented $x\r\n"),
        ("printf '%s\\n' 'héllo wörld ✓'", 0, "héllo wörld ✓\r\n".encode()),
        ("echo 'unterminated", 2, None),  # a syntax error is an exit status, not a hung shell
        ("cat", 0, b""),  # stdin is /dev/null: commands that read it end at once
        ('read -r line; echo "got [$line] $?"', 0, b"got [] 1\r\n"),
        ("echo " + "x" * 5000, 0, b"x" * 5000 + b"\r\n"),
    ]
    for command, status, expected in cases:
        run, data = await _exec(manager, sid, command)
        assert (run.state, run.exit_status) == (RunState.DONE, status), command
        if expected is None:
            assert b"unexpected EOF" in data
        else:
            assert data == expected, command


async def test_state_persists_between_runs(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    setup = "mkdir -p sub && cd sub && export JSX_VAR=kept && f() { echo fn; }"
    await _exec(manager, sid, setup, keep_state=True)
    _, data = await _exec(manager, sid, 'basename "$PWD"; echo $JSX_VAR; f', keep_state=True)
    assert data == b"sub\r\nkept\r\nfn\r\n"
    # A child shell (exec's way, as ssh) starts where the session's shell is, changes nothing.
    await _exec(manager, sid, "cd / && export JSX_VAR=changed")
    _, data = await _exec(manager, sid, 'basename "$PWD"; echo $JSX_VAR')
    assert data == b"sub\r\nkept\r\n"


async def test_stdin_from_terminal(manager: SessionManager, make_request: MakeRequest) -> None:
    sid = (await manager.open(make_request())).id
    run = await manager.start_run(
        sid, 'read -r answer; echo "answer=$answer"', owner="cli", stdin_from_terminal=True
    )
    run = await manager.wait_run(run.id, 0.3)
    assert run.state is RunState.RUNNING
    await manager.write_input(sid, b"yes\n")
    run = await manager.wait_run(run.id, 30)
    assert run.state is RunState.DONE and run.exit_status == 0
    assert manager.read_run(run.id).data == b"yes\r\nanswer=yes\r\n"  # the tty echoes input


async def test_utf8_split_across_chunks(manager: SessionManager, make_request: MakeRequest) -> None:
    """Multi-byte characters written a byte at a time arrive split; bytes and text stay intact."""
    sid = (await manager.open(make_request())).id
    text = "ü€😀" * 200
    octal = " ".join(f"{b:03o}" for b in text.encode())
    # One printf per byte, and a pause inside the first characters so a chunk surely ends there.
    command = (
        "printf '\\360\\237'; sleep 0.1; printf '\\230\\200'; sleep 0.1; printf '\\342';"
        f" sleep 0.1; printf '\\202\\254'; for b in {octal}; do printf \"\\\\$b\"; done"
    )
    text = "😀€" + text
    run, data = await _exec(manager, sid, command, max_wait_s=60)
    assert run.exit_status == 0
    assert data.decode() == text
    # Small reads never cut a character: each piece decodes by itself.
    offset, pieces = None, []
    while True:
        result = manager.read_run(run.id, offset, 7)
        if not result.data:
            break
        pieces.append(result.data.decode())
        offset = result.next_offset
    assert "".join(pieces) == text


async def test_twenty_megabytes_streamed(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    """Output far bigger than the buffer streams through; a follower reads it all, in order."""
    async with manager_factory(buffer_bytes=256 << 10) as manager:
        sid = (await manager.open(make_request())).id
        lines = 20 * 1024 * 1024 // 16
        command = f"seq -f '%015.0f' 1 {lines}"
        run = await manager.start_run(sid, command, owner="cli", time_limit_s=120)
        offset = run.output_offset
        expected_next = 1
        total = 0
        carry = b""
        while True:
            info = await manager.wait_run(run.id, 30, offset=offset)
            result = manager.read_run(run.id, offset, 1 << 20)
            assert result.missed == 0  # a steady follower misses nothing
            data = carry + result.data
            complete, _, carry = data.rpartition(b"\r\n")
            for line in complete.split(b"\r\n") if complete else []:
                assert int(line) == expected_next
                expected_next += 1
            total += len(result.data)
            offset = result.next_offset
            if info.state.finished and offset >= (info.end_offset or 0):
                break
        assert info.state is RunState.DONE and info.exit_status == 0
        assert carry == b""
        assert expected_next == lines + 1
        assert total == lines * 17
        session = manager.get(sid)
        assert session.end_offset > 20 * 1024 * 1024
        assert session.start_offset > 0  # the buffer wrapped many times


@pytest.mark.slow
async def test_hundred_megabytes(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    """100 MB through a 1 MiB buffer: status arrives; the reader learns what it missed."""
    async with manager_factory(buffer_bytes=1 << 20) as manager:
        sid = (await manager.open(make_request())).id
        command = "head -c 100000000 /dev/zero | tr '\\0' 'x'; echo"
        run, _ = await _exec(manager, sid, command, time_limit_s=600)
        assert run.state is RunState.DONE and run.exit_status == 0
        result = manager.read_run(run.id, None, 1 << 20)
        assert result.missed > 90_000_000
        assert result.data.startswith(b"x")
        assert run.end_offset is not None and run.start_offset is not None
        assert run.end_offset - run.start_offset == 100_000_002


async def test_timeout_sends_ctrl_c_and_the_shell_is_usable(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    run, data = await _exec(manager, sid, "echo started; sleep 60", time_limit_s=0.5)
    assert run.state is RunState.TIMEOUT
    assert run.exit_status == 130
    assert data == b"started\r\n"  # neither ^C echo nor the new prompt
    assert "ready" in (run.note or "")
    run, data = await _exec(manager, sid, "echo after")
    assert (run.state, run.exit_status, data) == (RunState.DONE, 0, b"after\r\n")


async def test_interrupt_a_run(manager: SessionManager, make_request: MakeRequest) -> None:
    sid = (await manager.open(make_request())).id
    run = await manager.start_run(sid, RUNNING_JOB, owner="cli")
    run = await manager.wait_run(run.id, 30, offset=run.output_offset)
    assert run.state is RunState.RUNNING
    assert manager.get(sid).current_run == run.id
    await manager.interrupt_run(run.id)
    run = await manager.wait_run(run.id, 30)
    assert (run.state, run.exit_status) == (RunState.INTERRUPTED, 130)
    assert manager.read_run(run.id).data == b"go\r\n"
    assert manager.get(sid).current_run is None
    _, data = await _exec(manager, sid, "echo fine")
    assert data == b"fine\r\n"


async def test_ctrl_c_typed_by_a_client_interrupts_the_run(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    """A watcher pressing Ctrl-C ends the run as interrupted, with the shell's status 130."""
    sid = (await manager.open(make_request())).id
    run = await manager.start_run(sid, f"{RUNNING_JOB}; echo not-reached", owner="agent")
    run = await manager.wait_run(run.id, 30, offset=run.output_offset)
    await manager.write_input(sid, b"\x03")
    run = await manager.wait_run(run.id, 30)
    assert (run.state, run.exit_status) == (RunState.INTERRUPTED, 130)
    assert manager.read_run(run.id).data == b"go\r\n"


async def test_a_command_dying_of_sigint_ends_at_its_time_limit(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    """Known limit: bash abandons the line when a job dies of SIGINT, so no END marker comes.

    The time limit's probe still recovers the shell and the real status.
    """
    sid = (await manager.open(make_request())).id
    run, _ = await _exec(manager, sid, "sh -c 'kill -INT $$'", time_limit_s=0.5)
    assert (run.state, run.exit_status) == (RunState.TIMEOUT, 130)
    run, data = await _exec(manager, sid, "echo ok")
    assert data == b"ok\r\n"


async def test_one_run_at_a_time_and_idempotent_request_ids(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    first = await manager.start_run(
        sid, "sleep 0.5; echo once >> ran.txt", owner="a", request_id="r1"
    )
    busy = f"busy: it is running `sleep 0.5.*` \\(run {first.id}\\)"
    with pytest.raises(SessionBusy, match=busy):
        await manager.start_run(sid, "echo other", owner="a")
    again = await manager.start_run(
        sid, "sleep 0.5; echo once >> ran.txt", owner="a", request_id="r1"
    )
    assert again.id == first.id
    done = await manager.wait_run(first.id, 30)
    assert done.state is RunState.DONE
    retried = await exec_run(
        manager, sid, "sleep 0.5; echo once >> ran.txt", owner="a", request_id="r1"
    )
    assert retried.run.id == first.id and retried.run.state is RunState.DONE
    with pytest.raises(SessionError, match="different command"):
        await manager.start_run(sid, "echo different", owner="a", request_id="r1")
    # Another owner's request id is its own.
    other = await exec_run(manager, sid, "cat ran.txt", owner="b", request_id="r1")
    assert other.run.id != first.id
    assert other.output.data == b"once\r\n"


async def test_exec_returns_a_handle_when_the_call_wait_ends(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    """Story 5: the call returns "still running"; later calls read more and get the status."""
    sid = (await manager.open(make_request())).id
    result = await exec_run(
        manager, sid, "echo step1; sleep 1; echo step2", owner="agent", max_wait_s=0.3
    )
    assert result.run.state is RunState.RUNNING
    assert result.output.data in (b"", b"step1\r\n")
    run = await manager.wait_run(result.run.id, 30)
    assert (run.state, run.exit_status) == (RunState.DONE, 0)
    rest = manager.read_run(run.id, result.output.next_offset)
    assert result.output.data + rest.data == b"step1\r\nstep2\r\n"


@pytest.mark.parametrize("shell", ["bash", "dash"])
@pytest.mark.parametrize(
    ("command", "status"),
    [
        ("echo bye; exit 3", 3),
        ("set -e; false; echo not-reached", 1),
        ("exec true", 0),
        ("kill $$", 143),
        ("false || exit 4", 4),
    ],
)
async def test_what_ends_a_shell_ends_only_the_command(
    manager_factory: ManagerFactory,
    make_request: MakeRequest,
    shell: str,
    command: str,
    status: int,
) -> None:
    """A child shell (exec) and an agent's guarded shell both report the command's own status
    and take the next command; a person's shell that a kept-state command exits says so."""
    async with manager_factory(shell=shell) as manager:
        sid = (await manager.open(make_request())).id
        run, _ = await _exec(manager, sid, command)
        assert (run.state, run.exit_status) == (RunState.DONE, status), run
        assert manager.get(sid).state.value == "live"
        run, data = await _exec(manager, sid, "echo next")
        assert (run.exit_status, data) == (0, b"next\r\n")

        agent = (await manager.open(make_request(purpose="agent"))).id
        await _exec(manager, agent, "cd / && X=kept", keep_state=True)
        run, _ = await _exec(manager, agent, command, keep_state=True)
        assert (run.state, run.exit_status) == (RunState.DONE, status), run
        if command != "false || exit 4" or shell == "bash":
            assert run.shell_ended and "a new shell was started" in (run.note or ""), run
        run, data = await _exec(manager, agent, "echo next $X", keep_state=True)
        assert (run.exit_status, data) == (0, b"next\r\n")

        if command == "exec true":
            return  # without a guard nothing reports what the replacing program did
        plain = (await manager.open(make_request())).id
        run, _ = await _exec(manager, plain, command, keep_state=True)
        assert (run.state, run.exit_status) == (RunState.DONE, status), run
        assert "this session ends with it" in (run.note or "")
        with pytest.raises((SessionBusy, SessionError)):
            await manager.start_run(plain, "echo never", owner="cli", keep_state=True)


@pytest.mark.skipif(shutil.which("dash") is None, reason="dash not installed")
async def test_exec_on_a_posix_sh(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    """What exec injects is POSIX sh: it works on dash (no readline, no bash-isms)."""
    async with manager_factory(shell="dash") as manager:
        sid = (await manager.open(make_request())).id
        for command, status, output in [
            ('echo "it\'s"; false', 1, b"it's\r\n"),
            ("nope-xyz", 127, None),
            ("printf 'a\\tb'\n", 0, b"a\tb"),
            ("cd /tmp && echo $PWD", 0, b"/tmp\r\n"),
            ("echo $PWD", 0, b"/tmp\r\n"),
        ]:
            run, data = await _exec(manager, sid, command, keep_state=True)
            assert run.exit_status == status, command
            if output is not None:
                assert data == output
            run, data = await _exec(manager, sid, command)
            assert run.exit_status == status, command
            if output is not None:
                assert data == output
        run, data = await _exec(manager, sid, "echo x; sleep 60", time_limit_s=0.5)
        assert run.state is RunState.TIMEOUT and data == b"x\r\n"
        run, data = await _exec(manager, sid, "echo back")
        assert data == b"back\r\n"


async def _exec_when_free(manager: SessionManager, sid: str, command: str) -> tuple[Any, bytes]:
    """Exec once the session's shell is back at its prompt (a client retries a refusal)."""
    for _ in range(100):
        try:
            return await _exec(manager, sid, command)
        except SessionBusy:
            await trio.sleep(0.05)
    raise AssertionError(f"session {sid} never came back to its prompt")


async def test_a_command_is_never_typed_into_a_program_holding_the_terminal(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    """After someone started `cat` (or half typed a line), a run is refused, not typed."""
    sid = (await manager.open(make_request())).id
    # cat reads the terminal, not bash (`go` shows once it really runs; see RUNNING_JOB)
    await manager.write_input(sid, b"sh -c 'echo g''o; exec cat'\r")
    with trio.fail_after(10):
        while b"go\r\n" not in manager.read_from(sid, 0, 1 << 20).data:
            await manager.wait_for_output(sid, manager.get(sid).end_offset, 1)
    with pytest.raises(SessionBusy, match="not back at a shell prompt") as refused:
        await manager.start_run(sid, "echo never-typed", owner="cli")
    assert "Its screen ends with" in str(refused.value)
    await manager.write_input(sid, b"\x03")  # Ctrl-C ends cat
    run, data = await _exec_when_free(manager, sid, "echo back")
    assert (run.exit_status, data) == (0, b"back\r\n")
    await manager.write_input(sid, b"echo half")  # a half-typed line
    with pytest.raises(SessionBusy, match="half typed"):
        await manager.start_run(sid, "echo never-typed", owner="cli")
    await manager.write_input(sid, b"\x15")  # Ctrl-U clears it
    run, data = await _exec_when_free(manager, sid, "echo next")
    assert (run.exit_status, data) == (0, b"next\r\n")
    assert b"never-typed" not in manager.read_from(sid, 0, 1 << 20).data


@pytest.mark.parametrize("shell", ["bash", "dash"])
async def test_standard_input_reaches_the_command_byte_for_byte(
    manager_factory: ManagerFactory, make_request: MakeRequest, shell: str
) -> None:
    async with manager_factory(shell=shell) as manager:
        sid = (await manager.open(make_request())).id
        data = bytes(range(256)) * 300 + b"\r\n\x03\x04 last line without newline"
        run, output = await _exec(manager, sid, "od -An -v -tx1 | tr -d ' \\n'", stdin=data)
        assert run.exit_status == 0 and output.decode().strip() == data.hex()
        # The command ran in the shell itself: what it read stays for the next command.
        await _exec(manager, sid, "read greeting", stdin=b"hello there\n", keep_state=True)
        run, output = await _exec(manager, sid, "echo got:$greeting", keep_state=True)
        assert output == b"got:hello there\r\n"
        run, output = await _exec(manager, sid, "wc -c", stdin=b"")
        assert (run.exit_status, output.strip()) == (0, b"0")


async def test_a_failing_command_with_standard_input_keeps_its_status(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    run, output = await _exec(manager, sid, "grep -c needle; (exit 3)", stdin=b"hay\n")
    assert (run.exit_status, output) == (3, b"0\r\n")
