"""Running one command to its end through the session manager's public calls, as tests need."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jsctl_daemon.sessions import DEFAULT_READ_BYTES, ReadResult, RunInfo, SessionManager


@dataclass(frozen=True)
class Executed:
    """A finished (or waited-for) run and the first part of its output."""

    run: RunInfo
    output: ReadResult


async def exec_run(
    manager: SessionManager,
    ref: str,
    command: str,
    *,
    max_wait_s: float | None = None,
    max_bytes: int = DEFAULT_READ_BYTES,
    **start: Any,
) -> Executed:
    """start_run, wait_run (until it ends, or ``max_wait_s``), read_run: what run.start does."""
    started = await manager.start_run(ref, command, **start)
    run = await manager.wait_run(started.id, math.inf if max_wait_s is None else max_wait_s)
    return Executed(run, manager.read_run(run.id, None, max_bytes))
