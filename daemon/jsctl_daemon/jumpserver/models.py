"""Typed views of JumpServer's JSON objects, parsed leniently (missing keys get defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Account",
    "Asset",
    "AssetDetail",
    "ConnectionToken",
    "Node",
    "Org",
    "Profile",
    "Protocol",
    "TreeNode",
]

VIRTUAL_ALIASES = frozenset({"@INPUT", "@USER", "@ANON"})


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _choice(value: Any) -> str:
    """``{"value": .., "label": ..}`` → value (labels are localised; never use them)."""
    return _str(value.get("value")) if isinstance(value, dict) else _str(value)


def _related(value: Any) -> tuple[str, str] | None:
    """``{"id": .., "name": ..}`` → (id, name)."""
    if isinstance(value, dict):
        return _str(value.get("id")), _str(value.get("name"))
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class Profile:
    """The logged-in user (``/api/v1/users/profile/``)."""

    id: str
    username: str
    name: str
    email: str
    mfa_enabled: bool
    is_superuser: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Profile:
        return cls(
            id=_str(body.get("id")),
            username=_str(body.get("username")),
            name=_str(body.get("name")),
            email=_str(body.get("email")),
            mfa_enabled=bool(body.get("mfa_enabled")),
            is_superuser=bool(body.get("is_superuser")),
            raw=body,
        )


@dataclass(frozen=True, slots=True)
class Org:
    """An organisation the user can work in."""

    id: str
    name: str
    is_default: bool = False
    is_root: bool = False
    is_system: bool = False

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Org:
        return cls(
            id=_str(body.get("id")),
            name=_str(body.get("name")),
            is_default=bool(body.get("is_default")),
            is_root=bool(body.get("is_root")),
            is_system=bool(body.get("is_system")),
        )


@dataclass(frozen=True, slots=True)
class Asset:
    """A permitted asset as listed (no accounts/protocols; see :class:`AssetDetail`)."""

    id: str
    name: str
    address: str
    platform: str
    category: str
    type: str
    zone: str | None  # `zone` from v4.10, `domain` before
    nodes: tuple[str, ...]  # node ids
    is_active: bool
    org_id: str
    org_name: str
    comment: str = ""

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Asset:
        platform = _related(body.get("platform"))
        zone = _related(body.get("zone") if "zone" in body else body.get("domain"))
        return cls(
            id=_str(body.get("id")),
            name=_str(body.get("name")),
            address=_str(body.get("address")),
            platform=platform[1] if platform else _str(body.get("platform")),
            category=_choice(body.get("category")),
            type=_choice(body.get("type")),
            zone=zone[1] if zone else None,
            nodes=tuple(n[0] for n in map(_related, _list(body.get("nodes"))) if n),
            is_active=bool(body.get("is_active", True)),
            org_id=_str(body.get("org_id")),
            org_name=_str(body.get("org_name")),
            comment=_str(body.get("comment")),
        )


@dataclass(frozen=True, slots=True)
class Protocol:
    """A protocol the user may use on an asset."""

    name: str
    port: int
    setting: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Protocol:
        port = body.get("port")
        return cls(
            name=_str(body.get("name")),
            port=port if isinstance(port, int) else 0,
            setting=_dict(body.get("setting")),
        )


@dataclass(frozen=True, slots=True)
class Account:
    """A permitted account; connect with its ``alias`` (virtual accounts' ids change)."""

    alias: str
    name: str
    username: str
    has_secret: bool
    secret_type: str
    actions: tuple[str, ...]

    @property
    def is_virtual(self) -> bool:
        """``@INPUT``, ``@USER`` or ``@ANON``."""
        return self.alias in VIRTUAL_ALIASES

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Account:
        return cls(
            alias=_str(body.get("alias") or body.get("id")),
            name=_str(body.get("name")),
            username=_str(body.get("username")),
            has_secret=bool(body.get("has_secret")),
            secret_type=_choice(body.get("secret_type")),
            actions=tuple(_choice(a) for a in _list(body.get("actions"))),
        )


@dataclass(frozen=True, slots=True)
class AssetDetail:
    """An asset with what this user may do on it."""

    asset: Asset
    protocols: tuple[Protocol, ...]
    accounts: tuple[Account, ...]

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> AssetDetail:
        return cls(
            asset=Asset.from_json(body),
            protocols=tuple(
                Protocol.from_json(p) for p in _list(body.get("permed_protocols")) if _dict(p)
            ),
            accounts=tuple(
                Account.from_json(a) for a in _list(body.get("permed_accounts")) if _dict(a)
            ),
        )


@dataclass(frozen=True, slots=True)
class Node:
    """A node (folder) of the asset tree."""

    id: str
    key: str
    value: str
    full_value: str
    assets_amount: int

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Node:
        amount = body.get("assets_amount")
        return cls(
            id=_str(body.get("id")),
            key=_str(body.get("key")),
            value=_str(body.get("value")),
            full_value=_str(body.get("full_value")),
            assets_amount=amount if isinstance(amount, int) else 0,
        )


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A zTree entry: a node (``kind == "node"``) or an asset under one."""

    id: str
    name: str
    parent: str
    kind: str
    is_parent: bool
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> TreeNode:
        meta = _dict(body.get("meta"))
        return cls(
            id=_str(body.get("id")),
            name=_str(body.get("name")),
            parent=_str(body.get("pId")),
            kind=_str(meta.get("type")),
            is_parent=bool(body.get("isParent")),
            data=_dict(meta.get("data")),
        )


@dataclass(frozen=True, slots=True)
class ConnectionToken:
    """A one-time connection token (KoKo consumes it on first use)."""

    id: str
    asset_id: str
    account: str
    protocol: str
    connect_method: str
    is_active: bool
    expire_time: int
    ticket: dict[str, Any] | None = field(default=None, compare=False)
    ticket_info: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ConnectionToken:
        asset = _related(body.get("asset"))
        expire = body.get("expire_time")
        ticket = body.get("from_ticket")
        return cls(
            id=_str(body.get("id")),
            asset_id=asset[0] if asset else _str(body.get("asset")),
            account=_str(body.get("account")),
            protocol=_str(body.get("protocol")),
            connect_method=_str(body.get("connect_method")),
            is_active=bool(body.get("is_active", True)),
            expire_time=expire if isinstance(expire, int) else 0,
            ticket=ticket if isinstance(ticket, dict) else None,
            ticket_info=_dict(body.get("from_ticket_info")),
        )
