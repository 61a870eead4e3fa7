"""Transfer progress: byte and file counters, pushed to the caller at a bounded rate."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Progress"]

Push = Callable[[dict[str, Any]], Awaitable[None]]
PUSH_EVERY_S = 0.25


class Progress:
    """Counts bytes and files of one operation; ``tick`` pushes at most every 0.25 s."""

    def __init__(self, push: Push | None, total_bytes: int, total_files: int) -> None:
        self._push = push
        self.total_bytes = total_bytes
        self.total_files = total_files
        self.bytes = 0
        self.files = 0
        self.current = ""
        self.started = time.monotonic()
        self._pushed_at = 0.0

    def advance(self, count: int) -> None:
        """Count transferred bytes (synchronous: backends call it between chunks)."""
        self.bytes += count

    def snapshot(self, event: str = "progress") -> dict[str, Any]:
        """The figures a front end renders (bar, rate, ETA)."""
        return {
            "event": event,
            "file": self.current,
            "bytes": self.bytes,
            "total_bytes": self.total_bytes,
            "files": self.files,
            "total_files": self.total_files,
            "elapsed_s": round(time.monotonic() - self.started, 3),
        }

    async def tick(self, force: bool = False) -> None:
        """Push the figures if enough time passed (or ``force``)."""
        if self._push is None:
            return
        now = time.monotonic()
        if force or now - self._pushed_at >= PUSH_EVERY_S:
            self._pushed_at = now
            await self._push(self.snapshot())

    async def file_done(self, name: str) -> None:
        """One file finished."""
        self.files += 1
        if self._push is not None:
            await self._push({**self.snapshot("file"), "file": name})
