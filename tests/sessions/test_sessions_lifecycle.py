"""Session life on real PTY shells: naming, limits, readers, attachments, endings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
import trio
from sessions_support import exec_run

from jsctl_daemon.sessions import (
    InvalidName,
    InvalidOffset,
    NameTaken,
    OpenRequest,
    RunState,
    SessionEnded,
    SessionLimitReached,
    SessionManager,
    SessionState,
    UnknownRun,
    UnknownSession,
    open_session_manager,
)
from jsctl_daemon.terminal import TerminalTransport

ManagerFactory = Callable[..., AbstractAsyncContextManager[SessionManager]]
MakeRequest = Callable[..., OpenRequest]


async def _read_all(manager: SessionManager, sid: str, offset: int = 0) -> bytes:
    out = b""
    while True:
        result = manager.read_from(sid, offset)
        if not result.data:
            return out
        out += result.data
        offset = result.next_offset


async def _wait_for_text(manager: SessionManager, sid: str, needle: bytes) -> None:
    with trio.fail_after(20):
        while needle not in await _read_all(manager, sid):
            await manager.wait_for_output(sid, manager.get(sid).end_offset, 5)


async def test_open_find_list_rename(manager: SessionManager, make_request: MakeRequest) -> None:
    a = await manager.open(make_request("web-01", name="web"))
    b = await manager.open(make_request("db-01", owner="codex", profile="lab"))
    assert len(a.id) == 6 and a.id.isalnum() and a.id.islower()
    assert a.state is SessionState.LIVE and a.name == "web"
    assert manager.get("web").id == a.id and manager.get(b.id).asset == "db-01"
    assert [s.id for s in manager.list_sessions(owner="codex").sessions] == [b.id]
    assert [s.id for s in manager.list_sessions(profile="corp").sessions] == [a.id]
    assert manager.list_sessions().limits == manager.limits
    with pytest.raises(NameTaken, match="already used by session"):
        await manager.open(make_request(name="web"))
    with pytest.raises(NameTaken):
        manager.rename(b.id, "web")
    with pytest.raises(InvalidName, match="cannot be a session name"):
        manager.rename(b.id, "bad name!")
    assert manager.rename(b.id, "db").name == "db"
    assert manager.rename("db", None).name is None
    with pytest.raises(UnknownSession, match="no session `nope` — `jsctl sessions` lists them"):
        manager.get("nope")
    with pytest.raises(UnknownRun):
        manager.get_run(f"{a.id}-99")


async def test_limits_per_profile_and_owner(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(max_per_profile=2, max_per_owner=1) as manager:
        first = await manager.open(make_request(owner="a"))
        await manager.open(make_request(owner="b"))
        with pytest.raises(SessionLimitReached, match="profile `corp` already has 2"):
            await manager.open(make_request(owner="c"))
        with pytest.raises(SessionLimitReached, match="`a` already has 1 open sessions"):
            await manager.open(make_request(owner="a", profile="other"))
        await manager.kill(first.id)  # ended sessions do not count
        await manager.open(make_request(owner="a"))
        listing = manager.list_sessions()
        assert listing.limits.max_per_profile == 2 and listing.limits.max_per_owner == 1


async def test_two_readers_see_the_same_bytes(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    seen: list[bytes] = [b"", b""]

    async def follow(slot: int, step: int) -> None:
        offset = 0
        while True:
            info = await manager.wait_for_output(sid, offset, 10)
            result = manager.read_from(sid, offset, step)
            assert result.missed == 0
            seen[slot] += result.data
            offset = result.next_offset
            if info.state.ended and offset == info.end_offset:
                return

    async with trio.open_nursery() as nursery:
        nursery.start_soon(follow, 0, 7)
        nursery.start_soon(follow, 1, 4096)
        await exec_run(manager, sid, "for i in $(seq 1 300); do echo line $i; done", owner="cli")
        await manager.write_input(sid, b"exit\n")
    assert seen[0] == seen[1]
    assert b"line 300\r\n" in seen[0]


async def test_missed_bytes_are_exact_after_wraparound(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(buffer_bytes=4096) as manager:
        sid = (await manager.open(make_request())).id
        result = await exec_run(manager, sid, "seq -f '%09.0f' 1 2000", owner="cli", max_bytes=0)
        run = result.run
        assert run.start_offset is not None and run.end_offset is not None
        assert run.end_offset - run.start_offset == 2000 * 11
        info = manager.get(sid)
        assert info.start_offset == info.end_offset - 4096
        stale = manager.read_from(sid, 0, 1 << 20)
        assert stale.missed == info.start_offset
        assert stale.next_offset == info.end_offset
        from_run = manager.read_run(run.id, None, 1 << 20)
        assert from_run.missed == info.start_offset - run.start_offset
        assert from_run.data.endswith(b"000002000\r\n")
        assert from_run.next_offset == run.end_offset
        with pytest.raises(InvalidOffset, match="past the end"):
            manager.read_from(sid, info.end_offset + 1)


async def test_kill_is_seen_by_waiting_readers(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    await _wait_for_text(manager, sid, b"$ ")
    run = await manager.start_run(sid, "sleep 60", owner="cli")
    states = []

    async def wait_reader() -> None:
        info = await manager.wait_for_output(sid, manager.get(sid).end_offset + 10**9, 30)
        states.append((info.state, info.reason))

    with pytest.raises(InvalidOffset):
        manager.read_from(sid, 10**12)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(wait_reader)
        await trio.sleep(0.1)
        killed = await manager.kill(sid, by="mei")
    assert killed.state is SessionState.CLOSED and killed.reason == "killed by mei"
    assert states == [(SessionState.CLOSED, "killed by mei")]
    lost = manager.get_run(run.id)
    assert lost.state is RunState.LOST and "killed by mei" in (lost.note or "")
    with pytest.raises(SessionEnded, match="is closed: killed by mei"):
        await manager.write_input(sid, b"ls\n")
    with pytest.raises(SessionEnded):
        await manager.start_run(sid, "true", owner="cli")
    assert await _read_all(manager, sid)  # output stays readable after the end


async def test_shell_exit_closes_with_reason(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    await manager.write_input(sid, b"exit 3\n")
    info = await manager.wait_for_output(sid, 10**9, 20)
    assert info.state is SessionState.CLOSED
    assert info.reason == "the shell exited with status 3"


async def test_transport_loss_is_seen_by_readers(
    pty_opener: Any, manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    run = await manager.start_run(sid, "echo before; sleep 60", owner="cli")
    await manager.wait_run(run.id, 20, offset=manager.get_run(run.id).output_offset)
    transport = pty_opener.transports[-1]
    transport.lose("the WebSocket to KoKo dropped (1006)")
    info = await manager.wait_for_output(sid, 10**9, 20)
    assert (info.state, info.reason) == (SessionState.LOST, "the WebSocket to KoKo dropped (1006)")
    lost = await manager.wait_run(run.id, 20)
    assert lost.state is RunState.LOST
    assert manager.read_run(run.id).data == b"before\r\n"


async def test_idle_sessions_are_reaped_unless_watched(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(idle_timeout_s=0.5) as manager:
        idle = await manager.open(make_request())
        watched = await manager.open(make_request())
        attachment = manager.attach(watched.id, "mei", read_only=True)
        info = await manager.wait_for_output(idle.id, 10**9, 20)
        assert info.state is SessionState.CLOSED
        assert "idle limit" in (info.reason or "")
        await trio.sleep(0.7)
        assert manager.get(watched.id).state is SessionState.LIVE
        manager.detach(watched.id, attachment.id)
        info = await manager.wait_for_output(watched.id, 10**9, 20)
        assert info.state is SessionState.CLOSED


async def test_attachments(manager: SessionManager, make_request: MakeRequest) -> None:
    sid = (await manager.open(make_request())).id
    viewer = manager.attach(sid, "mei", read_only=True)
    agent = manager.attach(sid, "codex", read_only=False)
    assert [(a.client, a.read_only) for a in manager.get(sid).attachments] == [
        ("mei", True),
        ("codex", False),
    ]
    # Read-only is the watcher connection's: it is refused before the manager (see e2e).
    await manager.write_input(sid, b"echo typed-by-agent\n")
    manager.detach(sid, agent.id)
    manager.detach(sid, viewer.id)
    await _wait_for_text(manager, sid, b"typed-by-agent\r\n")
    assert manager.get(sid).state is SessionState.LIVE  # detach never ends a session
    assert manager.get(sid).attachments == ()


async def test_opener_failure_reaches_the_caller(make_request: MakeRequest) -> None:
    class LoginExpired(Exception):
        pass

    @asynccontextmanager
    async def opener(request: OpenRequest) -> AsyncIterator[TerminalTransport]:
        raise LoginExpired("the JumpServer login for profile `corp` has expired")
        yield  # pragma: no cover

    async with open_session_manager(opener) as manager:
        with pytest.raises(LoginExpired, match="has expired"):
            await manager.open(make_request())
        assert manager.list_sessions().sessions == ()


async def test_shutdown_closes_every_session(pty_opener: Any, make_request: MakeRequest) -> None:
    async with open_session_manager(pty_opener) as manager:
        ids = [(await manager.open(make_request())).id for _ in range(3)]
    assert all(manager.get(i).state is SessionState.CLOSED for i in ids)
    assert {manager.get(i).reason for i in ids} == {"the daemon is shutting down"}


async def test_ended_sessions_are_forgotten_beyond_the_limit(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(keep_ended=1) as manager:
        first = await manager.open(make_request(name="a"))
        await manager.kill(first.id)
        second = await manager.open(make_request(name="a"))  # an ended session yields its name
        assert manager.get("a").id == second.id
        await manager.kill(second.id)
        await manager.open(make_request())
        ids = {s.id for s in manager.list_sessions().sessions}
        assert first.id not in ids and second.id in ids
