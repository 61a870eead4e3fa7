"""At a session limit the exec pool makes room as a cache would (real shells on PTYs).

The least recently used idle exec session of the same owner and profile is closed for a new one;
a person's shell, an agent's stateful session and a busy exec session never are; with none idle,
a pooled open may wait for one to finish (how a fleet larger than the limit runs through it).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
import trio
from sessions_support import exec_run

from jsctl_daemon.sessions import OpenRequest, SessionLimitReached, SessionManager, SessionState

pytestmark = pytest.mark.trio
MakeRequest = Callable[..., OpenRequest]
ManagerFactory = Callable[..., AbstractAsyncContextManager[SessionManager]]


def _request(make_request: MakeRequest, asset: str, **kw: Any) -> OpenRequest:
    return make_request(asset, asset_id=asset, **kw)  # the pool tells assets apart by id


async def test_an_idle_exec_session_makes_room_and_a_shell_never_does(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(max_per_owner=2) as manager:
        shell = (await manager.open(_request(make_request, "db-01", purpose="shell"))).id
        older, new = await manager.open_pooled(_request(make_request, "web-01", purpose="exec"))
        assert new
        assert (await exec_run(manager, older, "true", owner="cli")).run.exit_status == 0
        room, new = await manager.open_pooled(_request(make_request, "web-02", purpose="exec"))
        assert new and room != older  # the limit (2) was met: the idle web-01 one made room
        assert manager.get(older).state is SessionState.CLOSED
        assert "the session limit" in (manager.get(older).reason or "")
        assert manager.get(shell).state is SessionState.LIVE  # a person's shell stays
        # Only the owner's own pool: another owner's limit is not met by closing this one's.
        await manager.open_pooled(_request(make_request, "web-03", owner="other", purpose="exec"))
        assert manager.get(room).state is SessionState.LIVE
        # An agent's stateful session is no cache entry either.
        async with manager_factory(max_per_owner=1) as strict:
            kept = (await strict.open(_request(make_request, "web-01", purpose="agent"))).id
            with pytest.raises(SessionLimitReached, match="already has 1 open sessions"):
                await strict.open_pooled(_request(make_request, "web-02", purpose="exec"))
            assert strict.get(kept).state is SessionState.LIVE


async def test_a_pooled_open_waits_for_a_busy_session_to_finish(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(max_per_owner=1) as manager:
        busy, _ = await manager.open_pooled(_request(make_request, "web-01", purpose="exec"))
        started = await manager.start_run(busy, "sleep 1; echo done", owner="cli")
        with pytest.raises(SessionLimitReached):  # no wait asked: the refusal stands
            await manager.open_pooled(_request(make_request, "web-02", purpose="exec"))
        with trio.fail_after(20):
            room, new = await manager.open_pooled(
                _request(make_request, "web-02", purpose="exec"), room_wait_s=15
            )
        assert new and room != busy
        finished = manager.get_run(started.id)
        assert finished.exit_status == 0  # the run was let finish, then its session closed
        assert manager.get(busy).state is SessionState.CLOSED
        await manager.start_run(room, "sleep 5", owner="cli")
        with pytest.raises(SessionLimitReached):  # still busy past the wait: refused
            await manager.open_pooled(
                _request(make_request, "web-03", purpose="exec"), room_wait_s=0.5
            )
