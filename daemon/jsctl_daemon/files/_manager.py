"""File sessions owned by the daemon: reused per profile, asset, account and owner; capped.

Each session serves one operation at a time: KoKo v4.9.0+ mixes up requests in flight together
on one ``/koko/ws/sftp/`` socket (sheet 8.2), so a second operation on the same asset while one
runs (an ``ls`` during a ``cp``) gets a session of its own instead of waiting or interleaving.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio

from ._backend import FileBackend
from ._errors import FileSessionLimit, FileSessionLost
from ._open import FileKey

__all__ = ["FileLimits", "FileSessionManager", "Opener"]

log = logging.getLogger(__name__)

Opener = Callable[[FileKey], AbstractAsyncContextManager[FileBackend]]


@dataclass(frozen=True)
class FileLimits:
    """How many file sessions may live, and how long an unused one is kept."""

    max_sessions: int = 8
    idle_timeout_s: float = 300.0
    reap_every_s: float = 10.0


@dataclass
class _Entry:
    id: str
    key: FileKey
    backend: FileBackend | None = None
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    users: int = 0
    created_at: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    last_used_wall: float = field(default_factory=time.time)

    def to_wire(self) -> dict[str, Any]:
        backend = self.backend
        return {
            "id": self.id,
            "profile": self.key.profile,
            "asset": self.key.asset,
            "account": self.key.account,
            "owner": self.key.owner,
            "api": backend.kind if backend else None,
            "root": backend.root if backend else None,
            "busy": self.users,
            "created_at": self.created_at,
            "last_used_at": self.last_used_wall,
        }


class FileSessionManager:
    """Hands out live file sessions; each lives in a task of the manager's nursery."""

    def __init__(self, opener: Opener, limits: FileLimits | None = None) -> None:
        self._opener = opener
        self.limits = limits or FileLimits()
        self._entries: dict[str, _Entry] = {}
        self._opening: dict[tuple[str, str, str, str], trio.Lock] = {}
        self._numbers = itertools.count(1)
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Own the sessions' nursery and reap idle ones until cancelled (closes them all)."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            try:
                while True:
                    await trio.sleep(self.limits.reap_every_s)
                    self.reap_idle()
            finally:
                self._nursery = None
                nursery.cancel_scope.cancel()

    def reap_idle(self) -> int:
        """Close sessions unused for longer than the idle timeout; how many were closed."""
        now = time.monotonic()
        closing = [
            e
            for e in self._entries.values()
            if e.users == 0 and now - e.last_used > self.limits.idle_timeout_s
        ]
        for entry in closing:
            log.info("closing idle file session %s", entry.id)
            entry.scope.cancel()
        return len(closing)

    def sessions(self, owner: str | None = None) -> list[dict[str, Any]]:
        """The live sessions (only ``owner``'s when given)."""
        return [
            e.to_wire()
            for e in self._entries.values()
            if e.backend is not None
            and not e.scope.cancel_called
            and (owner is None or e.key.owner == owner)
        ]

    def close(self, session_id: str, owner: str | None = None) -> bool:
        """Close one session now (an agent may close only its own)."""
        entry = self._entries.get(session_id)
        if entry is None or (owner is not None and entry.key.owner != owner):
            return False
        entry.scope.cancel()
        return True

    async def forget_profile(self, profile: str) -> None:
        """Close every session of a profile (an ``auth.on_forget`` listener: logout)."""
        for entry in list(self._entries.values()):
            if entry.key.profile == profile:
                entry.scope.cancel()

    @asynccontextmanager
    async def use(self, key: FileKey) -> AsyncIterator[tuple[str, FileBackend]]:
        """A live session for ``key`` (an idle one reused, else a new one) and its id, held
        exclusively meanwhile."""
        entry = await self._acquire(key)
        assert entry.backend is not None
        try:
            yield entry.id, entry.backend
        finally:
            entry.users -= 1
            entry.last_used, entry.last_used_wall = time.monotonic(), time.time()
            if entry.backend.closed is not None:
                entry.scope.cancel()

    async def _acquire(self, key: FileKey) -> _Entry:
        """An idle session for ``key`` or a new one, already counted busy (under the lock, so
        two callers never get the same one)."""
        lock = self._opening.setdefault(key.identity, trio.Lock())
        async with lock:
            for entry in self._entries.values():
                backend = entry.backend
                reusable = backend is not None and backend.closed is None
                if (
                    entry.key.identity == key.identity
                    and reusable
                    and entry.users == 0
                    and not entry.scope.cancel_called
                ):
                    entry.users += 1
                    return entry
            self._make_room()
            entry = await self._open(key)
            entry.users += 1
            return entry

    def _make_room(self) -> None:
        live = [e for e in self._entries.values() if not e.scope.cancel_called]
        if len(live) < self.limits.max_sessions:
            return
        idle = sorted((e for e in live if e.users == 0), key=lambda e: e.last_used)
        if not idle:
            raise FileSessionLimit(
                f"all {self.limits.max_sessions} file sessions are busy; wait for a transfer "
                "to finish or close one (`jsctl files sessions`)"
            )
        idle[0].scope.cancel()

    async def _open(self, key: FileKey) -> _Entry:
        if self._nursery is None:
            raise FileSessionLost("the daemon's file layer is not running")
        entry = _Entry(f"f{next(self._numbers)}", key)
        self._entries[entry.id] = entry
        try:
            await self._nursery.start(self._hold, entry)
        except BaseException:
            self._entries.pop(entry.id, None)
            raise
        return entry

    async def _hold(self, entry: _Entry, *, task_status: trio.TaskStatus[None]) -> None:
        started = False
        try:
            with entry.scope:
                async with self._opener(entry.key) as backend:
                    entry.backend = backend
                    started = True
                    task_status.started()
                    await backend.ended.wait()
        except Exception as exc:
            if not started:
                raise
            log.warning("file session %s ended with an error: %s", entry.id, exc)
        finally:
            self._entries.pop(entry.id, None)
