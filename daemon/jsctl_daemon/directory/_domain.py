"""The directory domain: per-profile caches of assets, nodes and accounts, kept fresh."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from ..config import Config
from ..errors import DomainError
from ..jumpserver.errors import NotFound
from ._cache import ProfileCache
from ._errors import DirectoryError, NotInDirectory
from ._keeper import CacheKeeper
from ._match import AccountAllowFn, AllowFn, allowed_counts, select
from ._model import AssetRecord, DetailRecord, ResolvedAccount, ResolvedAsset
from ._resolve import describe_asset, pick_account, pick_asset, pick_node
from ._snapshot import Snapshot
from ._sync import fetch_assets, fetch_detail, fetch_protocol_members
from ._wire import asset_wire, detail_wire, node_order, node_wire, resolved

if TYPE_CHECKING:
    from ..auth import AuthDomain
    from ..auth._profile import ProfileState

_DETAIL_MAX_AGE = 30.0  # a session about to open re-reads an asset whose detail is older
_LOOKUP_AFTER = 2.0  # a miss in a snapshot older than this asks the server before failing
_COMPLETIONS = 200


class DirectoryDomain:
    """Assets, nodes and accounts per profile and organisation, served from a cache."""

    def __init__(self, state_dir: Path, config: Config, auth: AuthDomain) -> None:
        self.auth = auth
        self.keeper = CacheKeeper(state_dir, config.daemon.directory_ttl, auth)
        self._methods: dict[str, tuple[float, dict[str, Any]]] = {}
        auth.on_forget.append(self.forget)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Background refresh and saving, until cancelled (start it in the daemon's nursery)."""
        await self.keeper.run(task_status=task_status)

    async def aclose(self) -> None:
        """Save what changed since the last save."""
        await self.keeper.save_dirty()

    async def forget(self, profile: str) -> None:
        """Drop a profile's cache, in memory and on disk (called at logout and `profile rm`)."""
        self._methods.pop(profile, None)
        await self.keeper.forget(profile)

    async def _context(
        self, profile: str | None, org: str | None, refresh: bool = False
    ) -> tuple[ProfileState, str, Snapshot]:
        state = self.auth.profile(profile)
        key = await self.keeper.org_key(state, org)
        return state, key, await self.keeper.snapshot(state, key, refresh)

    # --- finding one asset
    async def _find(
        self, state: ProfileState, key: str, snapshot: Snapshot, ref: str, allowed: AllowFn | None
    ) -> AssetRecord:
        where = self.keeper.where(state, key)
        try:
            return pick_asset(snapshot, ref, where, allowed)
        except NotInDirectory:
            if time.time() - snapshot.synced_at < _LOOKUP_AFTER:
                raise
        with state.tagged():  # perhaps added since the snapshot: ask the server once
            found = await fetch_assets(state.api, key or None, self.keeper.intern, search=ref)
        cache = self.keeper.cache(state.name)
        for record in found:
            if record.id not in snapshot.by_id:
                snapshot.upsert(record)
                cache.dirty = True
        return pick_asset(snapshot, ref, where, allowed)

    async def _detail(
        self, state: ProfileState, asset: AssetRecord, max_age: float
    ) -> DetailRecord:
        """The asset's protocols and accounts, fetched again when older than ``max_age``."""
        cache = self.keeper.cache(state.name)
        detail = cache.fresh_detail(asset.id, max_age)
        if detail is not None:
            return detail
        try:
            with state.tagged():
                record, detail = await fetch_detail(state.api, asset.id, self.keeper.intern)
        except NotFound:
            cache.forget_asset(asset.id)
            raise NotInDirectory(
                f"asset {describe_asset(asset)} is no longer shown to you by JumpServer "
                "(deleted, or your permission was removed); it was dropped from the cache",
                {"asset": asset.name, "gone": True},
            ) from None
        for snapshot in cache.containing(asset.id):
            snapshot.upsert(record)  # the detail is newer than the listing
        cache.learn_detail(asset.id, detail, self.keeper.intern)
        return detail

    # --- public API
    async def list_assets(
        self,
        profile: str | None = None,
        org: str | None = None,
        *,
        pattern: str | None = None,
        node: str | None = None,
        protocol: str | None = None,
        refresh: bool = False,
        limit: int | None = None,
        allowed: AllowFn | None = None,
    ) -> dict[str, Any]:
        """Permitted assets passing the filters, from the cache (``refresh`` re-reads it all)."""
        state, key, snapshot = await self._context(profile, org, refresh)
        node_ids = snapshot.subtree(pick_node(snapshot, node)) if node else None
        if protocol and protocol not in snapshot.protocols_known:
            with state.tagged():
                members = await fetch_protocol_members(state.api, key or None, protocol)
            snapshot.learn_protocol(protocol, members, self.keeper.intern)
            self.keeper.cache(state.name).dirty = True
        found = list(
            select(snapshot, pattern=pattern, node_ids=node_ids, protocol=protocol, allowed=allowed)
        )
        shown = found[:limit] if limit else found
        return {
            "assets": [asset_wire(snapshot, a) for a in shown],
            "total": len(found),
            "cached_at": snapshot.synced_at,
            "stale": self.keeper.stale(snapshot),
            "warning": snapshot.error,
            "org": key or None,
        }

    async def show_asset(
        self,
        profile: str | None,
        ref: str,
        org: str | None = None,
        *,
        refresh: bool = False,
        allowed: AllowFn | None = None,
    ) -> dict[str, Any]:
        """One asset with its permitted protocols and accounts (read from the server if old)."""
        state, key, snapshot = await self._context(profile, org)
        asset = await self._find(state, key, snapshot, ref, allowed)
        detail = await self._detail(state, asset, 0.0 if refresh else _DETAIL_MAX_AGE)
        return detail_wire(snapshot, snapshot.by_id.get(asset.id, asset), detail)

    async def list_nodes(
        self,
        profile: str | None = None,
        org: str | None = None,
        *,
        refresh: bool = False,
        allowed: AllowFn | None = None,
    ) -> dict[str, Any]:
        """The nodes (folders) this user may see, in tree order; with an allow-list, only those
        holding an allowed asset, counting only allowed assets."""
        _state, key, snapshot = await self._context(profile, org, refresh)
        nodes = sorted(snapshot.nodes.values(), key=node_order)
        wires = [node_wire(n) for n in nodes]
        if allowed is not None:
            counts = allowed_counts(snapshot, allowed)
            wires = [
                {**wire, "assets_amount": counts[wire["path"]]}
                for wire in wires
                if wire["path"] in counts
            ]
        return {
            "nodes": wires,
            "cached_at": snapshot.synced_at,
            "org": key or None,
        }

    async def connect_methods(self, profile: str | None = None) -> dict[str, Any]:
        """How the server lets this user connect, per protocol (kept for the TTL)."""
        state = self.auth.profile(profile)
        cached = self._methods.get(state.name)
        if cached is None or time.time() - cached[0] > self.keeper.ttl:
            with state.tagged():
                cached = (time.time(), await state.api.connect_methods())
            self._methods[state.name] = cached
        return cached[1]

    async def resolve_asset(
        self,
        profile: str | None,
        ref: str,
        org: str | None = None,
        *,
        allowed: AllowFn | None = None,
    ) -> ResolvedAsset:
        """The asset a person means by name, address or id (unique prefix allowed).

        Answers from the cache, asks the server once on a miss, and re-reads the asset's
        detail when older than 30 s. NotInDirectory (also when the asset vanished
        server-side), AMBIGUOUS (lists candidates) or FORBIDDEN (outside ``allowed``).
        """
        state, key, snapshot = await self._context(profile, org)
        asset = await self._find(state, key, snapshot, ref, allowed)
        detail = await self._detail(state, asset, _DETAIL_MAX_AGE)
        return resolved(snapshot, snapshot.by_id.get(asset.id, asset), detail)

    async def resolve_account(
        self,
        profile: str | None,
        asset: ResolvedAsset,
        ref: str | None,
        *,
        allowed: AccountAllowFn | None = None,
    ) -> ResolvedAccount:
        """The account ``ref`` names on ``asset``: alias (``@INPUT``, ``@USER``), name, username.

        None picks the only real account (or the only account). ``allowed`` is the policy's
        test on (account name, username). NotInDirectory, Ambiguous (lists them) or
        FORBIDDEN (no account permitted, or the one named is outside ``allowed``).
        """
        state = self.auth.profile(profile)
        record = AssetRecord(
            asset.id,
            asset.name,
            asset.address,
            asset.platform,
            "",
            asset.org_id,
            (),
            asset.protocols,
            True,
        )
        detail = await self._detail(state, record, self.keeper.ttl)
        account = pick_account(detail, ref, asset.name, allowed)
        return ResolvedAccount(
            account.alias, account.name, account.username, account.is_virtual, account.actions
        )

    async def list_accounts(
        self,
        profile: str | None,
        ref: str,
        org: str | None = None,
        *,
        allowed: AllowFn | None = None,
    ) -> dict[str, Any]:
        """The accounts this user may use on an asset."""
        found = await self.show_asset(profile, ref, org, allowed=allowed)
        return {
            "asset": {k: found[k] for k in ("id", "name", "address")},
            "accounts": found["accounts"],
        }

    def complete(
        self,
        kind: str,
        prefix: str = "",
        asset: str | None = None,
        *,
        profile: str | None = None,
        org: str | None = None,
        allowed: AllowFn | None = None,
    ) -> list[str]:
        """Completion candidates from the cache only (never a round trip; stale copies kick a
        background refresh): ``asset`` names, ``account`` names/aliases of a cached asset,
        ``node`` paths, ``profile`` names; other kinds give nothing here."""
        if kind == "profile":
            return sorted(n for n in self.auth.profiles if n.startswith(prefix))
        try:
            name = self.auth.resolve_name(profile)
        except DomainError:  # no such profile, none logged in
            return []
        state = self.auth.profiles.get(name)
        if state is None:
            return []
        cache = self.keeper.cache(name)
        key = self.keeper.local_org_key(cache, org or state.credentials.org or "")
        snapshot = cache.snapshots.get(key) if key is not None else None
        if key is None or snapshot is None:
            return []
        if self.keeper.stale(snapshot):
            self.keeper.kick(name, key)
        snapshot.used_at = time.time()
        return _candidates(snapshot, cache, kind, prefix, asset, allowed)


def _candidates(
    snapshot: Snapshot,
    cache: ProfileCache,
    kind: str,
    prefix: str,
    asset: str | None,
    allowed: AllowFn | None,
) -> list[str]:
    low = prefix.lower()
    if kind == "asset":
        names: dict[str, None] = {}
        for record in snapshot.with_prefix(prefix):
            if allowed is None or allowed(record.name, snapshot.node_paths(record)):
                names[record.name] = None
                if len(names) >= _COMPLETIONS:
                    break
        return list(names)
    if kind == "node":
        return sorted(n.path for n in snapshot.nodes.values() if n.path.lower().startswith(low))
    if kind == "account" and asset:
        try:
            record = pick_asset(snapshot, asset, "", allowed)
        except DirectoryError:
            return []
        detail = cache.details.get(record.id)
        words: Callable[[Any], str] = lambda a: a.alias if a.is_virtual else a.name  # noqa: E731
        accounts = detail.accounts if detail else ()
        return [words(a) for a in accounts if words(a).lower().startswith(low)]
    return []
