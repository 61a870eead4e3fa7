"""Helpers for driving our JumpServer client against the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from jsctl_daemon.jumpserver.access_keys import revoke_access_key
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.koko import KokoTerminal
from jsctl_daemon.jumpserver.login_steps import LoggedIn, NeedMfaCode, NeedPassword
from jsctl_daemon.jumpserver.signature import AccessKey
from jsctl_daemon.jumpserver.web_login import WebLogin
from jsctl_sandbox.testing import SandboxInfo


def server_config(info: SandboxInfo, **options: object) -> ServerConfig:
    """Our config for a sandbox (trusting its CA)."""
    return ServerConfig(info.url, ca_file=info.ca_file, **options)  # type: ignore[arg-type]


WAIT_S = 20.0  # how long a terminal test waits for what it expects before failing


async def read_until(term: KokoTerminal, needle: bytes) -> bytes:
    """What the terminal sends until ``needle`` appears (fails after WAIT_S)."""
    seen = b""
    with trio.fail_after(WAIT_S):
        while needle not in seen:
            seen += await term.receive()
    return seen


async def drain_until_end(term: KokoTerminal) -> None:
    """Read until the terminal ends (its exception propagates; fails after WAIT_S)."""
    with trio.fail_after(WAIT_S):
        while True:
            await term.receive()


async def web_login(conn: Connection, info: SandboxInfo, username: str) -> LoggedIn:
    """Drive WebLogin through password and (if asked) TOTP."""
    login = WebLogin(conn, username)
    step = await login.start()
    assert isinstance(step, NeedPassword)
    step = await login.answer(password=info.user(username).password)
    if isinstance(step, NeedMfaCode):
        step = await login.answer(code=info.totp_now(username))
    assert isinstance(step, LoggedIn), step
    return step


@asynccontextmanager
async def logged_in(
    info: SandboxInfo, username: str = "admin", *, with_key: bool = False
) -> AsyncIterator[Connection]:
    """A Connection with a live web session (and an access key when asked)."""
    async with Connection(server_config(info)) as conn:
        login = WebLogin(conn, username)
        step = await login.start()
        step = await login.answer(password=info.user(username).password)
        if isinstance(step, NeedMfaCode):
            step = await login.answer(code=info.totp_now(username))
        assert isinstance(step, LoggedIn), step
        if with_key:
            conn.access_key = await login.create_access_key()
        try:
            yield conn
        finally:
            if conn.access_key is not None:  # the server keeps at most 10 keys per user
                await revoke_access_key(conn, conn.access_key.id)


@pytest.fixture
def config(sandbox: SandboxInfo) -> ServerConfig:
    """ServerConfig for the shared sandbox."""
    return server_config(sandbox)


__all__ = ["AccessKey", "logged_in", "server_config", "web_login"]
