"""Everything cached for one profile: a snapshot per organisation, asset details, org names."""

from __future__ import annotations

import time
from typing import Any

from ._model import DetailRecord, Interner
from ._snapshot import Snapshot


class ProfileCache:
    """One profile's cache; ``dirty`` says the disk copy is behind."""

    def __init__(
        self,
        snapshots: dict[str, Snapshot] | None = None,
        details: dict[str, DetailRecord] | None = None,
        orgs: dict[str, str] | None = None,
    ) -> None:
        self.snapshots: dict[str, Snapshot] = snapshots or {}  # org id ("" = server default)
        self.details: dict[str, DetailRecord] = details or {}  # asset id -> detail (org-agnostic)
        self.orgs: dict[str, str] = orgs or {}  # lower-case org name -> id
        self.dirty = False

    def containing(self, asset_id: str) -> list[Snapshot]:
        """Snapshots that list ``asset_id``."""
        return [s for s in self.snapshots.values() if asset_id in s.by_id]

    def learn_detail(self, asset_id: str, detail: DetailRecord, intern: Interner) -> None:
        """Keep a fresh detail and the protocols it tells."""
        self.details[asset_id] = detail
        for snapshot in self.containing(asset_id):
            snapshot.learn_detail(asset_id, detail, intern)
        self.dirty = True

    def forget_asset(self, asset_id: str) -> None:
        """The server no longer shows this asset: drop it everywhere."""
        self.details.pop(asset_id, None)
        for snapshot in self.snapshots.values():
            snapshot.remove(asset_id)
        self.dirty = True

    def fresh_detail(self, asset_id: str, max_age: float) -> DetailRecord | None:
        """The cached detail if younger than ``max_age`` seconds."""
        detail = self.details.get(asset_id)
        if detail is None or time.time() - detail.fetched_at > max_age:
            return None
        return detail

    def to_disk(self) -> dict[str, Any]:
        """A JSON-able form."""
        alive = {i for s in self.snapshots.values() for i in s.by_id}
        return {
            "orgs": self.orgs,
            "snapshots": {org: s.to_disk() for org, s in self.snapshots.items()},
            "details": {k: d.to_row() for k, d in self.details.items() if k in alive},
        }

    @classmethod
    def from_disk(cls, data: dict[str, Any], intern: Interner) -> ProfileCache:
        """Inverse of :meth:`to_disk` (KeyError/ValueError/TypeError when damaged)."""
        cache = cls(
            {str(o): Snapshot.from_disk(s, intern) for o, s in data["snapshots"].items()},
            {str(k): DetailRecord.from_row(v) for k, v in data["details"].items()},
            {str(k): str(v) for k, v in data["orgs"].items()},
        )
        for asset_id, detail in cache.details.items():
            for snapshot in cache.containing(asset_id):
                snapshot.learn_detail(asset_id, detail, intern)
        return cache
