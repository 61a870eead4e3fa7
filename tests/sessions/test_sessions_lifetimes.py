"""What a session keeps once things are over: nothing of the task that opened it, and of a
finished run only what answers for it (state, offsets, status), which still answers."""

from __future__ import annotations

import gc
import math
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
import trio
import trio.testing

from jsctl_daemon.sessions import OpenRequest, RunState, SessionManager, UnknownRun

MakeRequest = Callable[..., OpenRequest]


async def test_a_session_keeps_nothing_of_the_task_that_opened_it(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    opened: list[str] = []
    openers: list[weakref.ref[trio.lowlevel.Task]] = []

    async def open_one() -> None:  # as a fleet's slot or a call's handler opens one
        openers.append(weakref.ref(trio.lowlevel.current_task()))
        opened.append((await manager.open(make_request())).id)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(open_one)
    gc.collect()
    # The task (with its context, nursery and cancel scopes) is gone; the session lives on.
    assert openers[0]() is None
    started = await manager.start_run(opened[0], "echo still here", owner="cli")
    done = await manager.wait_run(started.id, 10)
    assert done.state is RunState.DONE and done.exit_status == 0
    assert manager.read_run(done.id).data == b"still here\r\n"


async def test_a_finished_run_still_answers_for_itself(
    manager: SessionManager, make_request: MakeRequest
) -> None:
    sid = (await manager.open(make_request())).id
    started = await manager.start_run(
        sid, "echo out; echo err >&2; exit 3", owner="cli", stderr_apart=True
    )
    waiters: list[RunState] = []

    async def wait() -> None:  # several waiters share the wake-up made by the first
        waiters.append((await manager.wait_run(started.id, 10)).state)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(wait)
    assert waiters == [RunState.DONE] * 3
    done = manager.get_run(started.id)
    assert done.exit_status == 3 and done.end_offset is not None
    # Later output in the session changes nothing about it.
    later = await manager.start_run(sid, "seq 1 500", owner="cli")
    await manager.wait_run(later.id, 10)
    with trio.fail_after(1):  # answered at once, not by a new wait
        again = await manager.wait_run(started.id, math.inf)
    assert again == manager.get_run(started.id)
    assert (again.readable_end, again.end_offset, again.exit_status) == (
        done.readable_end,
        done.end_offset,
        done.exit_status,
    )
    assert manager.read_run(started.id).data == b"out\r\n"
    assert manager.read_run_stderr(started.id).data == b"err\r\n"


async def test_a_session_forgets_its_oldest_finished_runs_beyond_the_limit(
    manager_factory: Callable[..., AbstractAsyncContextManager[SessionManager]],
    make_request: MakeRequest,
) -> None:
    async with manager_factory(keep_runs=3) as manager:
        sid = (await manager.open(make_request())).id
        handles = []
        for n in range(5):
            started = await manager.start_run(sid, f"echo {n}", owner="cli", request_id=f"r{n}")
            await manager.wait_run(started.id, 10)
            handles.append(started.id)
        for handle in handles[:2]:
            with pytest.raises(UnknownRun):
                manager.get_run(handle)
        for n, handle in enumerate(handles[2:], start=2):
            assert manager.read_run(handle).data == f"{n}\r\n".encode()
        # A forgotten run's request id is free again: it starts a new run, not the old one.
        again = await manager.start_run(sid, "echo again", owner="cli", request_id="r0")
        assert again.id not in handles
