"""The sandbox's directory: users, organisations, nodes, assets, accounts, permissions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

ROOT_ORG_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_ORG_ID = "00000000-0000-0000-0000-000000000002"
DEFAULT_ORG_NAME = "DEFAULT"  # the community edition's name for it
ROOT_ORG_NAME = "GLOBAL"
ROOT_ORG_WORKBENCH_NAME = "All organizations"  # the ROOT org as workbench_orgs names it
SYSTEM_ORG_ID = "00000000-0000-0000-0000-000000000004"
ALL_ACTIONS = ("connect", "upload", "download", "copy", "paste", "delete", "share")
VIRTUAL_ACCOUNTS = {
    "@INPUT": "Manual input",
    "@USER": "Dynamic user",
    "@ANON": "Anonymous account",
}
_NAMESPACE = uuid.UUID("6f1c1f6e-8f0c-4f53-9a55-6a1d2b9c0d10")


def stable_id(kind: str, name: str) -> str:
    """A UUID that stays the same across runs for the same object."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


@dataclass
class AccessKey:
    """A durable REST credential (HTTP Signature key id + secret)."""

    id: str
    secret: str
    date_created: float
    is_active: bool = True
    ip_group: list[str] = field(default_factory=lambda: ["*"])
    date_last_used: float | None = None


@dataclass
class User:
    """A JumpServer user with its credentials and login counters."""

    id: str
    username: str
    name: str
    email: str
    password: str
    totp_secret: str | None = None
    is_superuser: bool = False
    is_active: bool = True
    date_expired: float | None = None
    date_joined: float = 0.0
    private_tokens: list[str] = field(default_factory=list)
    access_keys: list[AccessKey] = field(default_factory=list)
    last_login: float | None = None
    date_api_key_last_used: float | None = None
    need_update_password: bool = False  # an admin flagged it: login ends on a flash page
    mfa_level: int = 0  # 0 off, 1 on, 2 forced (without a bound secret: not set up yet)

    @property
    def mfa_enabled(self) -> bool:
        """True when the user must pass TOTP."""
        return self.totp_secret is not None

    @property
    def mfa_unset(self) -> bool:
        """MFA forced on the user, who has not bound an authenticator yet."""
        return self.mfa_level == 2 and self.totp_secret is None

    @property
    def display(self) -> str:
        """`Name(username)` as JumpServer shows users."""
        return f"{self.name}({self.username})"


@dataclass(frozen=True)
class Org:
    """An organisation."""

    id: str
    name: str


@dataclass
class Node:
    """A node (folder) in an organisation's asset tree."""

    id: str
    key: str
    value: str
    org_id: str
    full_value: str

    @property
    def parent_key(self) -> str:
        """The parent's key ("" for an org root)."""
        return self.key.rsplit(":", 1)[0] if ":" in self.key else ""


@dataclass(frozen=True)
class Account:
    """A real account on an asset."""

    id: str
    name: str
    username: str
    secret: str
    secret_type: str = "password"


@dataclass(frozen=True)
class Protocol:
    """A protocol an asset speaks."""

    name: str
    port: int


@dataclass
class Asset:
    """A host; in the sandbox a local PTY shell with its own home directory."""

    id: str
    name: str
    address: str
    org_id: str
    node_ids: list[str]
    protocols: list[Protocol]
    accounts: list[Account]
    platform_id: int = 1
    platform_name: str = "Linux"
    platform_type: str = "linux"
    is_active: bool = True
    comment: str = ""
    date_created: float = 0.0


@dataclass
class Permission:
    """An asset permission: who may use which accounts on which assets."""

    id: str
    name: str
    org_id: str
    user_ids: set[str]
    asset_ids: set[str]
    node_ids: set[str]
    accounts: list[str]  # "@ALL", "@INPUT", "@USER", "@ANON", "@SPEC" names or account names
    actions: list[str]
    date_expired: float | None = None
    date_start: float = 0.0


@dataclass
class AssetGrant:
    """What a user may do on one asset: the union of the matching permissions."""

    accounts: list[Account]
    virtual: list[str]
    actions: list[str]
    date_expired: float | None
