"""PtyShell drives a real bash on a real PTY."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from jsctl_sandbox import pty_shell
from jsctl_sandbox.pty_shell import PtyShell

# Generous: only bounds a hang, never asserts speed.
WAIT_S = 20.0


class Screen:
    """Accumulates a shell's output and waits for text to appear in it."""

    def __init__(self, shell: PtyShell) -> None:
        self.shell = shell
        self.data = b""
        self.eof = False

    async def expect(self, needle: bytes) -> bytes:
        """Read until ``needle`` shows up; return everything read so far and consume it."""
        with trio.fail_after(WAIT_S):
            while needle not in self.data:
                chunk = await self.shell.read()
                if not chunk:
                    raise AssertionError(f"EOF before {needle!r}; got {self.data!r}")
                self.data += chunk
        seen, self.data = self.data, self.data[self.data.index(needle) + len(needle) :]
        return seen

    async def drain_to_eof(self) -> bytes:
        with trio.fail_after(WAIT_S):
            while chunk := await self.shell.read():
                self.data += chunk
        return self.data


@pytest.fixture(autouse=True, params=["launcher", "preexec"])
def spawn_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with both ways of starting the shell: through `env --default-signal
    setsid --ctty` (what the sandbox uses where they exist) and with Python code in the child."""
    if request.param == "launcher":
        if pty_shell._launcher() is None:
            pytest.skip("no `env --default-signal` / `setsid --ctty` here")
    else:
        monkeypatch.setattr(pty_shell, "_launcher", lambda: None)
    return str(request.param)


@pytest.fixture
def ignoring_sigusr2() -> Iterator[None]:
    """The sandbox started as a background job would ignore some signals (SIGUSR2 here)."""
    previous = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGUSR2, previous)


async def test_prompt_cwd_env_and_echo(tmp_path: Path) -> None:
    async with PtyShell.bash(workdir=tmp_path, hostname="web-01") as shell:
        screen = Screen(shell)
        await screen.expect(b"@web-01:~$ ")
        await shell.write(b'echo "$HOSTNAME|$TERM|$LANG|$HOME|$(pwd)|$((6*7))"\r')
        await screen.expect(f"web-01|xterm-256color|C.UTF-8|{tmp_path}|{tmp_path}|42".encode())


async def test_exit_status_and_eof(tmp_path: Path) -> None:
    shell = PtyShell.bash(workdir=tmp_path, hostname="h")
    await shell.start()
    try:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"exit 3\r")
        await screen.drain_to_eof()
        with trio.fail_after(WAIT_S):
            assert await shell.wait() == 3
        assert shell.returncode == 3
    finally:
        await shell.aclose()


async def test_ctrl_c_interrupts_foreground_job(tmp_path: Path) -> None:
    async with PtyShell.bash(workdir=tmp_path, hostname="h") as shell:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"sleep 60\r")
        await screen.expect(b"sleep 60\r\n")
        await trio.sleep(0.2)  # let bash hand the terminal to sleep
        await shell.write(b"\x03")
        await screen.expect(b"$ ")
        # 130 = 128 + SIGINT: the interrupt reached sleep through the terminal.
        await shell.write(b"echo after-$?\r")
        await screen.expect(b"after-130\r\n")


async def test_resize_is_seen_by_stty(tmp_path: Path) -> None:
    async with PtyShell.bash(workdir=tmp_path, hostname="h", cols=100, rows=30) as shell:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"stty size\r")
        await screen.expect(b"30 100\r\n")
        shell.resize(132, 43)
        await shell.write(b"stty size\r")
        await screen.expect(b"43 132\r\n")


async def test_sigwinch_reaches_foreground_program(tmp_path: Path) -> None:
    async with PtyShell.bash(workdir=tmp_path, hostname="h") as shell:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"trap 'echo WINCH-$(stty size)' WINCH; echo armed\r")
        await screen.expect(b"armed\r\n")
        await screen.expect(b"$ ")
        shell.resize(90, 33)
        await screen.expect(b"WINCH-33 90")


async def test_has_controlling_terminal_and_own_session(tmp_path: Path) -> None:
    async with PtyShell.bash(workdir=tmp_path, hostname="h") as shell:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"ps -o sid= -p $$; tty\r")
        out = await screen.expect(b"/dev/pts/")
        assert str(shell.pid).encode() in out
        assert shell.pid != os.getsid(0)


async def test_programs_start_with_default_signals(tmp_path: Path, ignoring_sigusr2: None) -> None:
    # As under sshd: nothing the sandbox ignores is ignored by what the shell runs.
    async with PtyShell.bash(workdir=tmp_path, hostname="h") as shell:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"grep -E '^Sig(Ign|Blk)' /proc/self/status | tr -d '\\t'; echo end\r")
        out = await screen.expect(b"\r\nend\r\n")
        assert b"SigIgn:0000000000000000" in out
        assert b"SigBlk:0000000000000000" in out


async def test_a_blocked_signal_is_not_passed_on(tmp_path: Path) -> None:
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
    try:
        shell = PtyShell.bash(workdir=tmp_path, hostname="h")
        await shell.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    try:
        screen = Screen(shell)
        await screen.expect(b"$ ")
        await shell.write(b"grep '^SigBlk' /proc/self/status | tr -d '\\t'; echo end\r")
        out = await screen.expect(b"\r\nend\r\n")
        assert b"SigBlk:0000000000000000" in out
    finally:
        await shell.aclose()


async def test_aclose_kills_whole_session(tmp_path: Path) -> None:
    shell = PtyShell.bash(workdir=tmp_path, hostname="h")
    await shell.start()
    screen = Screen(shell)
    await screen.expect(b"$ ")
    # A background job in its own process group, plus one that ignores SIGHUP.
    await shell.write(b"sleep 300 & nohup sleep 301 >/dev/null 2>&1 & echo pids:$!:\r")
    await screen.expect(b"pids:")
    await screen.expect(b"$ ")
    assert shell.pid is not None
    session = shell.pid
    members = [pid for pid in _pids() if _sid(pid) == session]
    assert len(members) >= 3
    await shell.aclose()
    assert shell.returncode is not None
    with trio.move_on_after(10):  # SIGKILL is sent; a loaded kernel may take a moment to act
        while [pid for pid in members if _alive(pid)]:  # noqa: ASYNC110 - no event for another process dying
            await trio.sleep(0.05)
    assert not [pid for pid in members if _alive(pid)]


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
