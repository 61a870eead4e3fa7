"""A real ``bash`` on a real pseudo-terminal, driven with trio.

:class:`PtyShell` starts a process in its own session with the PTY slave as its
controlling terminal (so Ctrl-C, job control and full-screen programs behave as on a
real host), exposes the PTY master as an async byte stream, forwards window-size
changes and kills the whole session on close.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import getpass
import os
import re
import shutil
import signal
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import trio

__all__ = ["PtyShell", "bash_argv", "bash_environment", "login_path"]

_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
# Characters that may appear literally in PS1 without bash prompt/parameter expansion.
_PROMPT_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# How long a hung-up session may take to exit before it is SIGKILLed.
_HANGUP_GRACE_S = 1.0


def bash_argv() -> list[str]:
    """The command line of an interactive bash that reads no rc or profile files."""
    return [shutil.which("bash") or "/bin/bash", "--norc", "--noprofile", "-i"]


def login_path(inherited: str) -> str:
    """The inherited PATH plus the standard directories a login shell always has (a sandbox
    started from cron, nohup or a bare environment may have few or none)."""
    parts = [p for p in inherited.split(":") if p]
    parts += [p for p in _DEFAULT_PATH.split(":") if p not in parts]
    return ":".join(parts)


def bash_environment(
    *, home: Path, hostname: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A small, predictable environment for an asset shell on this machine."""
    user = getpass.getuser()
    prompt_host = _PROMPT_UNSAFE.sub("-", hostname) or "asset"
    env = {
        "PATH": login_path(os.environ.get("PATH", "")),
        "HOME": str(home),
        "USER": user,
        "LOGNAME": user,
        "SHELL": bash_argv()[0],
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "HOSTNAME": hostname,
        "PS1": rf"\u@{prompt_host}:\w$ ",
        "HISTFILE": "",  # null HISTFILE: history is not written into the asset's home
    }
    if extra:
        env.update(extra)
    return env


def _set_window_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


# Dispositions a shell started from a background job (`… &`, nohup) would inherit as
# "ignored" (exec keeps SIG_IGN); an sshd-started login shell has them all at default.
_RESET_SIGNALS = tuple(
    getattr(signal, name)
    for name in (
        "SIGINT", "SIGQUIT", "SIGTERM", "SIGHUP", "SIGPIPE", "SIGCHLD",
        "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2", "SIGALRM",
        "SIGWINCH", "SIGXFSZ",
    )
    if hasattr(signal, name)
)  # fmt: skip


def _reset_signals() -> None:
    """Default dispositions and an empty signal mask, as a freshly logged-in shell has."""
    for signum in _RESET_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, ())


def _take_controlling_terminal() -> None:
    # Runs in the child after setsid(): stdin is the PTY slave, make it our ctty.
    _reset_signals()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


@functools.cache
def _launcher() -> tuple[str, ...] | None:
    """``env --default-signal setsid --ctty``, when this system has both (coreutils 8.31+,
    util-linux): they do in the child what :func:`_take_controlling_terminal` does, so the
    child needs no Python code between fork and exec and Python can use vfork. Forking the
    sandbox's whole address space (and running Python in the copy) cost ~1.5 ms of the
    sandbox's CPU per shell, with the GIL held: a fleet opening 100 terminals waits on it."""
    env, setsid = shutil.which("env"), shutil.which("setsid")
    if env is None or setsid is None:
        return None
    try:
        probe = subprocess.run(
            [env, "--default-signal", setsid, "--help"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if probe.returncode != 0 or "--ctty" not in probe.stdout:
        return None
    return (env, "--default-signal", setsid, "--ctty")


# Every signal but those Popen's restore_signals resets (Python ignores SIGPIPE and SIGXFSZ
# itself) and those nobody can ignore.
_INHERITABLE = tuple(
    int(s)
    for s in signal.valid_signals()
    - {signal.SIGPIPE, signal.SIGXFSZ, signal.SIGKILL, signal.SIGSTOP}
)


def _ignores_signals() -> bool:
    """Whether this process ignores a signal a child would keep ignoring (exec keeps SIG_IGN)."""
    ignored = signal.SIG_IGN
    for signum in _INHERITABLE:
        try:
            if signal.getsignal(signum) is ignored:
                return True
        except (OSError, ValueError):
            continue
    return False


def _session_members(sid: int) -> list[int]:
    """Pids of live processes in session ``sid`` (Linux /proc)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp session ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry))
    return members


def _signal_session(sid: int, signum: int) -> None:
    for pid in _session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


class PtyShell:
    """A child process on a fresh PTY; read/write its terminal, resize it, close it."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        cols: int = 80,
        rows: int = 24,
    ) -> None:
        self._argv = list(argv)
        self._cwd = cwd
        self._env = dict(env)
        self._cols = cols
        self._rows = rows
        self._process: trio.Process | None = None
        self._master: trio.lowlevel.FdStream | None = None
        self._write_lock = trio.Lock()
        self._closed = False

    @classmethod
    def bash(
        cls,
        *,
        workdir: Path,
        hostname: str,
        cols: int = 80,
        rows: int = 24,
        extra_env: Mapping[str, str] | None = None,
    ) -> PtyShell:
        """An interactive bash in ``workdir`` whose prompt shows ``hostname``."""
        env = bash_environment(home=workdir, hostname=hostname, extra=extra_env)
        return cls(bash_argv(), cwd=workdir, env=env, cols=cols, rows=rows)

    @property
    def pid(self) -> int | None:
        """The child's pid (also its session and process-group id), once started."""
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit status (negative signal number if killed), None while running."""
        return None if self._process is None else self._process.returncode

    async def start(self) -> None:
        """Spawn the child on a new PTY sized ``cols`` x ``rows``."""
        if self._process is not None:
            raise RuntimeError("PtyShell already started")
        launcher = _launcher()
        if signal.pthread_sigmask(signal.SIG_BLOCK, ()):
            launcher = None  # env cannot unblock signals: the child empties its mask itself
        elif launcher is not None and not _ignores_signals():
            launcher = launcher[2:]  # nothing for env to reset (an exec less: ~0.7 ms a shell)
        master_fd, slave_fd = os.openpty()
        try:
            _set_window_size(master_fd, self._cols, self._rows)
            if launcher is None:
                argv = self._argv
                own_session: dict[str, Any] = {
                    "start_new_session": True,
                    "preexec_fn": _take_controlling_terminal,
                }
            else:  # setsid makes the new session (same pid), then takes the PTY as its ctty
                argv, own_session = [*launcher, *self._argv], {}
            self._process = await trio.lowlevel.open_process(
                argv,
                stdin=slave_fd,
                stdout=slave_fd,
                stderr=slave_fd,
                cwd=self._cwd,
                env=self._env,
                close_fds=True,
                **own_session,
            )
        except BaseException:
            os.close(master_fd)
            raise
        finally:
            os.close(slave_fd)
        self._master = trio.lowlevel.FdStream(master_fd)

    def _stream(self) -> trio.lowlevel.FdStream:
        if self._master is None:
            raise RuntimeError("PtyShell not started")
        return self._master

    async def read(self, max_bytes: int = 65536) -> bytes:
        """Terminal output, at most ``max_bytes``; b"" once every writer of the PTY is gone."""
        stream = self._stream()
        try:
            return await stream.receive_some(max_bytes)
        except trio.BrokenResourceError as exc:
            # Linux reports a hung-up PTY master (no slave left) as EIO.
            if isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.EIO:
                return b""
            raise
        except trio.ClosedResourceError:
            return b""

    async def write(self, data: bytes) -> None:
        """Send keystrokes/bytes to the terminal (as if typed)."""
        if not data:
            return
        stream = self._stream()
        async with self._write_lock:
            # A gone shell is reported through read()/wait(), not here.
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.send_all(data)

    def resize(self, cols: int, rows: int) -> None:
        """Change the window size; the foreground job gets SIGWINCH."""
        self._cols, self._rows = cols, rows
        if self._master is not None and not self._closed:
            _set_window_size(self._master.fileno(), cols, rows)

    async def wait(self) -> int:
        """Wait for the child to exit and return its status."""
        if self._process is None:
            raise RuntimeError("PtyShell not started")
        return await self._process.wait()

    async def aclose(self) -> None:
        """Hang up and kill every process of the shell's session, then release the PTY."""
        if self._closed:
            return
        self._closed = True
        with trio.CancelScope(shield=True):
            process = self._process
            if process is not None and process.returncode is None:
                _signal_session(process.pid, signal.SIGHUP)
                _signal_session(process.pid, signal.SIGCONT)
                with trio.move_on_after(_HANGUP_GRACE_S):
                    await process.wait()
            if process is not None:
                # Anything still in the session (ignores SIGHUP, or outlived bash) dies now.
                _signal_session(process.pid, signal.SIGKILL)
                await process.wait()
            if self._master is not None:
                await self._master.aclose()

    async def __aenter__(self) -> PtyShell:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
