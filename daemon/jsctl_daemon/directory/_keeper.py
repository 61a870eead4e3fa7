"""Keeping the cache: loading it, syncing it (one fetch per key), refreshing it when stale."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from jsctl_protocol import quote_input

from ..errors import DomainError
from ..jumpserver.errors import JumpServerError
from ._cache import ProfileCache
from ._errors import NotInDirectory
from ._model import Interner
from ._snapshot import Snapshot
from ._store import DirectoryStore
from ._sync import fetch_snapshot

if TYPE_CHECKING:
    from ..auth import AuthDomain
    from ..auth._profile import ProfileState

log = logging.getLogger(__name__)

_ORG_WORDS = {  # sheet 4.4: fixed ids the server accepts by name
    "root": "00000000-0000-0000-0000-000000000000",
    "default": "00000000-0000-0000-0000-000000000002",
    "system": "00000000-0000-0000-0000-000000000004",
}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class CacheKeeper:
    """Per-profile caches: lazy or preloaded from disk, synced under a lock, saved when dirty."""

    def __init__(self, state_dir: Path, ttl: float, auth: AuthDomain) -> None:
        self.auth = auth
        self.ttl = ttl
        self.store = DirectoryStore(state_dir)
        self.intern = Interner()
        self._caches: dict[str, ProfileCache] = {}
        self._locks: dict[tuple[str, str], trio.Lock] = {}
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Refresh stale snapshots that callers use and save changed caches, until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            nursery.start_soon(self._preload)
            try:
                while True:
                    await trio.sleep(min(5.0, max(self.ttl / 2, 0.2)))
                    self._refresh_stale()
                    await self.save_dirty()
            finally:
                self._nursery = None

    async def forget(self, profile: str) -> None:
        """Drop a profile's cache, in memory and on disk (called at logout and `profile rm`)."""
        self._caches.pop(profile, None)
        self.store.drop(profile)

    async def save_dirty(self) -> None:
        """Write every cache that changed (encoding and I/O off the event loop)."""
        for name, cache in list(self._caches.items()):
            if cache.dirty:
                cache.dirty = False
                data = cache.to_disk()
                await trio.to_thread.run_sync(self.store.save, name, data)
                if self._caches.get(name) is not cache:
                    self.store.drop(name)  # forgotten while we wrote: no copy may stay behind

    async def _preload(self) -> None:
        """Read logged-in profiles' caches from disk, so the first completion is instant too."""
        for name in list(self.auth.profiles):
            loaded = await trio.to_thread.run_sync(self.store.load, name, self.intern)
            if name in self.auth.profiles:
                self._caches.setdefault(name, loaded)

    # --- the cache
    def cache(self, profile: str) -> ProfileCache:
        cache = self._caches.get(profile)
        if cache is None:
            cache = self._caches[profile] = self.store.load(profile, self.intern)
        return cache

    def stale(self, snapshot: Snapshot) -> bool:
        return time.time() - snapshot.synced_at > self.ttl

    def _refresh_stale(self) -> None:
        for name, cache in list(self._caches.items()):
            for key, snapshot in list(cache.snapshots.items()):
                if self.stale(snapshot) and snapshot.used_at > snapshot.synced_at:
                    self.kick(name, key)

    def kick(self, profile: str, key: str) -> None:
        """Refresh in the background unless a refresh is already running."""
        lock = self._locks.setdefault((profile, key), trio.Lock())
        if self._nursery is not None and not lock.locked():
            self._nursery.start_soon(self._refresh_quietly, profile, key)

    async def _refresh_quietly(self, profile: str, key: str) -> None:
        state = self.auth.profiles.get(profile)
        if state is None:
            return
        try:
            await self.sync(state, key)
        except (JumpServerError, DomainError) as exc:
            log.warning("profile %s: directory refresh failed: %s", profile, exc)

    async def sync(self, state: ProfileState, key: str) -> Snapshot:
        """Fetch a whole snapshot; concurrent callers share one fetch."""
        asked_at = time.time()
        async with self._locks.setdefault((state.name, key), trio.Lock()):
            cache = self.cache(state.name)
            current = cache.snapshots.get(key)
            if current is not None and current.synced_at >= asked_at:
                return current  # another caller's sync finished while we waited
            try:
                with state.tagged():
                    fresh = await fetch_snapshot(
                        state.api, key or None, self.intern, current, cache.details
                    )
            except JumpServerError as exc:
                if current is not None:
                    current.error = str(exc)
                raise
            if self.auth.profiles.get(state.name) is not state:
                return fresh  # logged out meanwhile: keep nothing
            fresh.used_at = current.used_at if current else 0.0
            cache.snapshots[key] = fresh
            cache.dirty = True
            await self.save_dirty()
            log.info("profile %s: directory synced (%d assets)", state.name, len(fresh))
            return fresh

    async def snapshot(self, state: ProfileState, key: str, refresh: bool) -> Snapshot:
        snapshot = self.cache(state.name).snapshots.get(key)
        if snapshot is None or refresh:
            snapshot = await self.sync(state, key)
        elif self.stale(snapshot):
            self.kick(state.name, key)  # answer from the stale copy now, fresh next time
        snapshot.used_at = time.time()
        return snapshot

    # --- organisations
    @staticmethod
    def local_org_key(cache: ProfileCache, ref: str) -> str | None:
        low = ref.strip().lower()
        if not low:
            return ""
        if low in _ORG_WORDS:
            return _ORG_WORDS[low]
        return low if _UUID.match(low) else cache.orgs.get(low)

    async def org_key(self, state: ProfileState, org: str | None) -> str:
        """The organisation id a call means ("" = the server's default for the user)."""
        ref = org or state.credentials.org or ""
        cache = self.cache(state.name)
        key = self.local_org_key(cache, ref)
        if key is not None:
            return key
        with state.tagged():
            orgs = await state.api.orgs()
        cache.orgs = {o.name.lower(): o.id for o in orgs}
        cache.dirty = True
        key = self.local_org_key(cache, ref)
        if key is None:
            names = ", ".join(sorted(o.name for o in orgs)) or "none"
            raise NotInDirectory(
                f"no organisation {quote_input(ref)} for profile `{state.name}`; yours: {names}",
                {"org": ref},
            )
        return key

    def where(self, state: ProfileState, key: str) -> str:
        names = {i: n for n, i in self.cache(state.name).orgs.items()}
        org = f" in org `{names.get(key, key)}`" if key else ""
        return f"for profile `{state.name}`{org}"
