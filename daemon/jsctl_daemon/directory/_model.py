"""Compact records of the directory (slots, shared strings) and the answers resolution gives."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..jumpserver.models import VIRTUAL_ALIASES

H = TypeVar("H", bound=Hashable)


class Interner:
    """Hands out one shared object per distinct value (platforms, org ids, node-id tuples)."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: H) -> H:
        shared: H = self._seen.setdefault(value, value)
        return shared


class AssetRecord:
    """A permitted asset as the cache keeps it (about 0.5 KiB with its indexes)."""

    __slots__ = (
        "address",
        "comment",
        "id",
        "is_active",
        "name",
        "node_ids",
        "org_id",
        "platform",
        "protocols",
    )

    def __init__(
        self,
        id: str,
        name: str,
        address: str,
        platform: str,
        comment: str,
        org_id: str,
        node_ids: tuple[str, ...],
        protocols: tuple[str, ...],
        is_active: bool,
    ) -> None:
        self.id, self.name, self.address, self.platform = id, name, address, platform
        self.comment, self.org_id, self.node_ids = comment, org_id, node_ids
        self.protocols, self.is_active = protocols, is_active

    @property
    def key(self) -> str:
        """The sort and search key: lower-case name and address."""
        return search_key(self.name, self.address)

    def to_row(self) -> list[Any]:
        """The on-disk form (a list: no repeated field names)."""
        return [
            self.id,
            self.name,
            self.address,
            self.platform,
            self.comment,
            self.org_id,
            list(self.node_ids),
            list(self.protocols),
            self.is_active,
        ]

    @classmethod
    def from_row(cls, row: list[Any], intern: Interner) -> AssetRecord:
        """Inverse of :meth:`to_row`; shared values go through ``intern``."""
        id_, name, address, platform, comment, org_id, nodes, protocols, active = row
        return cls(
            str(id_),
            str(name),
            str(address),
            intern(str(platform)),
            str(comment),
            intern(str(org_id)),
            intern(tuple(intern(str(n)) for n in nodes)),
            intern(tuple(intern(str(p)) for p in protocols)),
            bool(active),
        )


def search_key(name: str, address: str) -> str:
    """What patterns and prefixes are matched against (names sort first)."""
    return f"{name.lower()}\n{address.lower()}"


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A node (folder): its id, tree key, full path such as ``/DEFAULT/web``, asset count."""

    id: str
    key: str
    path: str
    name: str
    assets_amount: int

    def to_row(self) -> list[Any]:
        """The on-disk form."""
        return [self.id, self.key, self.path, self.name, self.assets_amount]

    @classmethod
    def from_row(cls, row: list[Any]) -> NodeRecord:
        """Inverse of :meth:`to_row`."""
        id_, key, path, name, amount = row
        return cls(str(id_), str(key), str(path), str(name), int(amount))


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A permitted account; virtual ones are known by alias only (their ids change per call)."""

    alias: str
    name: str
    username: str
    has_secret: bool
    actions: tuple[str, ...]

    @property
    def is_virtual(self) -> bool:
        """``@INPUT``, ``@USER`` or ``@ANON``."""
        return self.alias in VIRTUAL_ALIASES

    def to_wire(self) -> dict[str, Any]:
        """The RPC form."""
        return {
            "alias": self.alias,
            "name": self.name,
            "username": self.username,
            "is_virtual": self.is_virtual,
            "has_secret": self.has_secret,
            "actions": list(self.actions),
        }

    def to_row(self) -> list[Any]:
        """The on-disk form."""
        return [self.alias, self.name, self.username, self.has_secret, list(self.actions)]

    @classmethod
    def from_row(cls, row: list[Any]) -> AccountRecord:
        """Inverse of :meth:`to_row`."""
        alias, name, username, has_secret, actions = row
        return cls(str(alias), str(name), str(username), bool(has_secret), tuple(actions))


@dataclass(frozen=True, slots=True)
class DetailRecord:
    """What the asset-detail call adds: permitted protocols (name, port) and accounts."""

    protocols: tuple[tuple[str, int], ...]
    accounts: tuple[AccountRecord, ...]
    fetched_at: float

    def to_row(self) -> dict[str, Any]:
        """The on-disk form."""
        return {
            "at": self.fetched_at,
            "protocols": [list(p) for p in self.protocols],
            "accounts": [a.to_row() for a in self.accounts],
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DetailRecord:
        """Inverse of :meth:`to_row`."""
        return cls(
            tuple((str(n), int(p)) for n, p in row["protocols"]),
            tuple(AccountRecord.from_row(a) for a in row["accounts"]),
            float(row["at"]),
        )


@dataclass(frozen=True, slots=True)
class ResolvedAsset:
    """An asset a reference resolved to, with what a session needs to open a connection."""

    id: str
    name: str
    address: str
    org_id: str
    protocols: tuple[str, ...]
    platform: str
    node_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResolvedAccount:
    """An account a reference resolved to; connect with ``alias`` (never a virtual id)."""

    alias: str
    name: str
    username: str
    is_virtual: bool
    actions: tuple[str, ...]
