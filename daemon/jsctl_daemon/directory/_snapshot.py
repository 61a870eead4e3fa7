"""One profile and organisation's directory at one moment, indexed for search and completion."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import Any

from ._model import AssetRecord, DetailRecord, Interner, NodeRecord, search_key

_FAVORITE = "favorite"  # the synthetic first entry of the node list


class Snapshot:
    """Assets sorted by lower-case name (bisect gives prefixes) and the nodes they sit in."""

    def __init__(
        self,
        assets: Iterable[AssetRecord],
        nodes: Iterable[NodeRecord],
        *,
        synced_at: float,
        protocols_known: Iterable[str] = (),
    ) -> None:
        unique = {asset.id: asset for asset in assets}  # pages may overlap when the list moves
        pairs = sorted(((asset.key, asset) for asset in unique.values()), key=lambda p: p[0])
        self.keys: list[str] = [key for key, _ in pairs]
        self.assets: list[AssetRecord] = [asset for _, asset in pairs]
        self.by_id: dict[str, AssetRecord] = unique
        self.nodes: dict[str, NodeRecord] = {n.id: n for n in nodes if n.key != _FAVORITE}
        self.synced_at = synced_at
        self.protocols_known: set[str] = set(protocols_known)
        self.used_at = 0.0  # when a caller last read it (the background refresh favours these)
        self._disk: dict[str, Any] | None = None  # to_disk() until the next change
        self.error: str | None = None  # why the last refresh failed (this copy is then stale)

    def __len__(self) -> int:
        return len(self.assets)

    # --- lookups
    def node_paths(self, asset: AssetRecord) -> tuple[str, ...]:
        """Full paths of the asset's nodes (an id the node list lacks stands for itself)."""
        nodes = self.nodes
        return tuple(nodes[n].path if n in nodes else n for n in asset.node_ids)

    def with_prefix(self, prefix: str) -> Iterator[AssetRecord]:
        """Assets whose name starts with ``prefix`` (case-insensitive), in name order."""
        low = prefix.lower()
        start = bisect.bisect_left(self.keys, low)
        for index in range(start, len(self.keys)):
            if not self.keys[index].startswith(low):
                return
            yield self.assets[index]

    def named(self, name: str) -> list[AssetRecord]:
        """Assets whose name equals ``name`` ignoring case."""
        if "\n" in name:  # cannot be a key prefix; odd names still resolve
            low = name.lower()
            return [a for a in self.assets if a.name.lower() == low]
        return list(self.with_prefix(name + "\n"))

    def subtree(self, node: NodeRecord) -> frozenset[str]:
        """Ids of ``node`` and every node below it."""
        below = node.path.rstrip("/") + "/"
        return frozenset(
            n.id for n in self.nodes.values() if n.id == node.id or n.path.startswith(below)
        )

    # --- updates
    def upsert(self, asset: AssetRecord) -> None:
        """Add or replace one asset (learnt from a search or a detail call)."""
        old = self.by_id.get(asset.id)
        if old is not None and _same_listing(old, asset):
            return
        self.remove(asset.id)
        self._disk = None
        key = asset.key
        index = bisect.bisect_left(self.keys, key)
        self.keys.insert(index, key)
        self.assets.insert(index, asset)
        self.by_id[asset.id] = asset

    def remove(self, asset_id: str) -> bool:
        """Forget one asset (deleted or no longer permitted server-side)."""
        old = self.by_id.pop(asset_id, None)
        if old is None:
            return False
        self._disk = None
        key = search_key(old.name, old.address)
        index = bisect.bisect_left(self.keys, key)
        while self.assets[index] is not old:
            index += 1
        del self.keys[index], self.assets[index]
        return True

    def learn_protocol(self, protocol: str, member_ids: set[str], intern: Interner) -> None:
        """Record which assets offer ``protocol`` (from a server-side filtered listing)."""
        for asset in self.assets:
            has = protocol in asset.protocols
            if (asset.id in member_ids) != has:
                names = set(asset.protocols) ^ {protocol}
                asset.protocols = intern(tuple(sorted(intern(p) for p in names)))
                self._disk = None
        self.protocols_known.add(protocol)
        self._disk = None

    def learn_detail(self, asset_id: str, detail: DetailRecord, intern: Interner) -> None:
        """Take an asset's protocols from its detail (the list items do not carry them)."""
        asset = self.by_id.get(asset_id)
        protocols = intern(tuple(sorted(intern(name) for name, _ in detail.protocols)))
        if asset is not None and asset.protocols != protocols:
            asset.protocols = protocols
            self._disk = None

    # --- disk
    def to_disk(self) -> dict[str, Any]:
        """A JSON-able form (rows, not objects: a tenth of the size); kept until a change."""
        if self._disk is None:
            self._disk = {
                "synced_at": self.synced_at,
                "protocols_known": sorted(self.protocols_known),
                "assets": [a.to_row() for a in self.assets],
                "nodes": [n.to_row() for n in self.nodes.values()],
            }
        return self._disk

    @classmethod
    def from_disk(cls, data: dict[str, Any], intern: Interner) -> Snapshot:
        """Inverse of :meth:`to_disk` (KeyError/ValueError/TypeError on a damaged file)."""
        return cls(
            (AssetRecord.from_row(row, intern) for row in data["assets"]),
            (NodeRecord.from_row(row) for row in data["nodes"]),
            synced_at=float(data["synced_at"]),
            protocols_known=[str(p) for p in data["protocols_known"]],
        )


def _same_listing(old: AssetRecord, new: AssetRecord) -> bool:
    """Whether a re-read asset differs in nothing a listing shows (protocols aside)."""
    fields = ("name", "address", "platform", "comment", "org_id", "node_ids", "is_active")
    return all(getattr(old, f) == getattr(new, f) for f in fields)
