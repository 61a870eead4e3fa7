"""Idle sessions are cheap: memory beyond their (lazily grown) buffers stays small."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from jsctl_daemon.sessions import OpenRequest, open_session_manager
from jsctl_daemon.terminal import TerminalTransport

PROMPT = b"\x1b[?2004hroot@web-01:~$ "


class IdleTransport:
    """A terminal that printed its prompt and then waits, like an idle remote shell."""

    def __init__(self) -> None:
        self._sent_prompt = False
        self._never = trio.Event()

    @property
    def info(self) -> dict[str, Any]:
        return {}

    async def receive(self) -> bytes:
        if not self._sent_prompt:
            self._sent_prompt = True
            return PROMPT
        await self._never.wait()
        raise AssertionError("unreachable")

    async def send_input(self, data: bytes) -> None:
        pass

    async def resize(self, cols: int, rows: int) -> None:
        pass


@asynccontextmanager
async def idle_opener(request: OpenRequest) -> AsyncIterator[TerminalTransport]:
    yield IdleTransport()


async def test_idle_sessions_cost_little_beyond_their_buffers() -> None:
    count = 500
    async with open_session_manager(idle_opener) as manager:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for i in range(count):
                await manager.open(OpenRequest("corp", f"web-{i}", "root", "cli"))
            await trio.testing.wait_all_tasks_blocked()
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        buffers = sum(4096 for _ in range(count))  # each ring buffer allocated its first page
        per_session = (used - buffers) / count
        assert all(s.end_offset == len(PROMPT) for s in manager.list_sessions().sessions)
        assert per_session <= 64 * 1024, per_session
        print(f"{per_session / 1024:.1f} KiB per idle session beyond its buffer")
