"""The daemon's file-session pool against the real sandbox: reuse, cap, idle reaping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
from files_support import token_and_cookie

from jsctl_daemon.files import (
    FileBackend,
    FileKey,
    FileLimits,
    FileSessionLimit,
    FileSessionManager,
    FileSettings,
)
from jsctl_daemon.files._sftp import open_sftp
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_sandbox.testing import SandboxInfo


def _opener(sandbox: SandboxInfo, opened: list[str]):  # type: ignore[no-untyped-def]
    config = ServerConfig(sandbox.url, ca_file=sandbox.ca_file)

    @asynccontextmanager
    async def open_for(key: FileKey) -> AsyncIterator[FileBackend]:
        token, cookie = await trio.to_thread.run_sync(token_and_cookie, sandbox, "mei", key.asset)
        opened.append(key.asset)
        async with open_sftp(config, cookie, token, FileSettings()) as session:
            yield session

    return open_for


def _key(asset: str) -> FileKey:
    return FileKey("default", f"id-{asset}", "alias", "human", asset, "deploy")


async def test_pool_reuses_caps_and_reaps(sandbox: SandboxInfo) -> None:
    opened: list[str] = []
    # Idle long enough that a loaded machine still reuses it, short enough to see it reaped.
    limits = FileLimits(max_sessions=1, idle_timeout_s=1.5, reap_every_s=0.05)
    manager = FileSessionManager(_opener(sandbox, opened), limits)
    async with trio.open_nursery() as nursery:
        await nursery.start(manager.run)
        async with manager.use(_key("web-01")) as (first, backend):
            assert backend.kind == "sftp" and backend.root.endswith("/web-01/tmp")
        async with manager.use(_key("web-01")) as (again, _):
            assert again == first  # reused
        async with manager.use(_key("web-02")) as (second, _):
            assert second != first  # the idle web-01 session made room
            with pytest.raises(FileSessionLimit):
                async with manager.use(_key("db-01")):
                    pass  # the only slot is busy
        assert [s["asset"] for s in manager.sessions()] == ["web-02"]
        with trio.fail_after(10):
            while manager.sessions():  # noqa: ASYNC110 - reaped once idle; poll from outside
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert opened == ["web-01", "web-02"]
