"""Fixtures: a TerminalTransport over the sandbox's real PTY bash, and session managers using it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

from jsctl_daemon.sessions import OpenRequest, SessionLimits, SessionManager, open_session_manager
from jsctl_daemon.terminal import TerminalClosed, TerminalLost, TerminalTransport
from jsctl_sandbox.pty_shell import PtyShell


class PtyTransport:
    """A TerminalTransport over a real PTY shell (test-only; the daemon uses the KoKo client)."""

    def __init__(self, shell: PtyShell) -> None:
        self._shell = shell
        self._lost: str | None = None
        self._lost_event = trio.Event()

    @property
    def info(self) -> dict[str, Any]:
        return {"pid": self._shell.pid}

    async def receive(self) -> bytes:
        if self._lost is None:
            async with trio.open_nursery() as nursery:
                # Race the shell's output against a simulated connection loss.
                result: list[bytes] = []

                async def read() -> None:
                    result.append(await self._shell.read())
                    nursery.cancel_scope.cancel()

                async def lose() -> None:
                    await self._lost_event.wait()
                    nursery.cancel_scope.cancel()

                nursery.start_soon(read)
                nursery.start_soon(lose)
            if result and result[0]:
                return result[0]
        if self._lost is not None:
            raise TerminalLost(self._lost)
        status = await self._shell.wait()
        raise TerminalClosed(f"the shell exited with status {status}")

    async def send_input(self, data: bytes) -> None:
        await self._shell.write(data)

    async def resize(self, cols: int, rows: int) -> None:
        self._shell.resize(cols, rows)

    def lose(self, reason: str) -> None:
        """Simulate the connection breaking (as a dropped KoKo WebSocket would)."""
        self._lost = reason
        self._lost_event.set()


ShellFactory = Callable[[OpenRequest, Path], PtyShell]


def bash_shell(request: OpenRequest, workdir: Path) -> PtyShell:
    """The sandbox's asset shell: bash without rc files, prompt showing the asset name."""
    return PtyShell.bash(
        workdir=workdir, hostname=request.asset, cols=request.cols, rows=request.rows
    )


def dash_shell(request: OpenRequest, workdir: Path) -> PtyShell:
    """A plain POSIX sh (no line editing), to check that exec injects nothing bash-only."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "PS1": "$ ", "TERM": "xterm"}
    return PtyShell(["dash", "-i"], cwd=workdir, env=env, cols=request.cols, rows=request.rows)


SHELLS: dict[str, ShellFactory] = {"bash": bash_shell, "dash": dash_shell}


class PtyOpener:
    """Opens a shell per request in ``workdir``; remembers the transports it made."""

    def __init__(self, workdir: Path, shell: ShellFactory = bash_shell) -> None:
        self.workdir = workdir
        self.shell = shell
        self.transports: list[PtyTransport] = []

    def __call__(self, request: OpenRequest) -> AbstractAsyncContextManager[TerminalTransport]:
        return self._open(request)

    @asynccontextmanager
    async def _open(self, request: OpenRequest) -> AsyncIterator[TerminalTransport]:
        async with self.shell(request, self.workdir) as shell:
            transport = PtyTransport(shell)
            self.transports.append(transport)
            yield transport


@pytest.fixture
def pty_opener(tmp_path: Path) -> PtyOpener:
    return PtyOpener(tmp_path)


ManagerFactory = Callable[..., AbstractAsyncContextManager[SessionManager]]


@pytest.fixture
def manager_factory(tmp_path: Path) -> ManagerFactory:
    """Managers over real shells: ``factory(shell="dash", buffer_bytes=...)``."""

    def factory(shell: str = "bash", **limits: Any) -> AbstractAsyncContextManager[SessionManager]:
        opener = PtyOpener(tmp_path, SHELLS[shell])
        return open_session_manager(opener, SessionLimits(**limits))

    return factory


@pytest.fixture
async def manager(pty_opener: PtyOpener) -> AsyncIterator[SessionManager]:
    async with open_session_manager(pty_opener, SessionLimits()) as m:
        yield m


def make_request(asset: str = "web-01", **kw: Any) -> OpenRequest:
    """An OpenRequest with test defaults."""
    fields: dict[str, Any] = {"profile": "corp", "asset": asset, "account": "root", "owner": "cli"}
    fields.update(kw)
    return OpenRequest(**fields)


@pytest.fixture(name="make_request")
def make_request_fixture() -> Callable[..., OpenRequest]:
    return make_request
