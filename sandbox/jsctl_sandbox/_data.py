"""Builds the sandbox directory from defaults, a TOML config and the asset generator."""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from typing import Any

import pyotp

from ._directory import Directory
from ._model import (
    ALL_ACTIONS,
    DEFAULT_ORG_ID,
    DEFAULT_ORG_NAME,
    Account,
    Asset,
    Node,
    Org,
    Permission,
    Protocol,
    User,
    stable_id,
)

MAX_GENERATED_ASSETS = 50_000
_GENERATED_PER_NODE = 250
_DEFAULT_PORTS = {"ssh": 22, "sftp": 22, "telnet": 23, "rdp": 3389, "mysql": 3306}
_ROLES = ("web", "db", "cache", "api", "batch")
_SEVENTY_YEARS = 70 * 365 * 86400  # JumpServer's default date_expired for users and grants

DEFAULT_CONFIG: dict[str, Any] = {
    "users": [
        {"username": "admin", "name": "Administrator", "is_superuser": True},
        {"username": "mei", "name": "Mei Chen", "mfa": "totp"},
    ],
    "orgs": [{"name": "DEFAULT"}, {"name": "Staging"}],
    "assets": [
        {"name": "web-01", "address": "10.0.1.11", "nodes": ["/DEFAULT/web"]},
        {"name": "web-02", "address": "10.0.1.12", "nodes": ["/DEFAULT/web"]},
        {"name": "db-01", "address": "10.0.2.21", "nodes": ["/DEFAULT/db"]},
        {"name": "staging-api-01", "address": "10.0.3.31", "nodes": ["/DEFAULT/staging"]},
        {"name": "stg-web-01", "address": "10.9.1.11", "nodes": ["/Staging/web"], "org": "Staging"},
    ],
    "permissions": [
        {
            "name": "admins-everything",
            "users": ["admin"],
            "nodes": ["/DEFAULT"],
            "accounts": ["@ALL", "@INPUT", "@USER"],
        },
        {
            "name": "mei-deploy",
            "users": ["mei"],
            "nodes": ["/DEFAULT"],
            "accounts": ["deploy", "@INPUT", "@USER"],
        },
        {
            "name": "staging-all",
            "users": ["admin", "mei"],
            "org": "Staging",
            "nodes": ["/Staging"],
            "accounts": ["@ALL", "@INPUT"],
        },
    ],
}


def load_config(path: Path | None) -> dict[str, Any]:
    """The TOML config at ``path``, or the default data when no path is given."""
    if path is None:
        return DEFAULT_CONFIG
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _password() -> str:
    return secrets.token_urlsafe(12)


class _Builder:
    """Accumulates orgs and nodes while reading asset/permission node paths."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.orgs: dict[str, Org] = {DEFAULT_ORG_NAME: Org(DEFAULT_ORG_ID, DEFAULT_ORG_NAME)}
        self.nodes_by_path: dict[str, Node] = {}
        self._next_child: dict[str, int] = {}
        self._org_keys: dict[str, str] = {DEFAULT_ORG_NAME: "1"}

    def org(self, name: str) -> Org:
        if name.lower() == "default":  # the community edition's Default org is `DEFAULT`
            name = DEFAULT_ORG_NAME
        if name not in self.orgs:
            self.orgs[name] = Org(stable_id("org", name), name)
            self._org_keys[name] = str(len(self._org_keys) + 1)
        return self.orgs[name]

    def node(self, path: str) -> Node:
        path = "/" + path.strip("/")
        if path in self.nodes_by_path:
            return self.nodes_by_path[path]
        parts = path.strip("/").split("/")
        org = self.org(parts[0])
        parts[0] = org.name
        path = "/" + "/".join(parts)
        if path in self.nodes_by_path:
            return self.nodes_by_path[path]
        if len(parts) == 1:
            key = self._org_keys[org.name]
        else:
            parent = self.node("/" + "/".join(parts[:-1]))
            index = self._next_child.get(parent.key, 0) + 1
            self._next_child[parent.key] = index
            key = f"{parent.key}:{index}"
        node = Node(stable_id("node", path), key, parts[-1], org.id, path)
        self.nodes_by_path[path] = node
        return node


def _mfa_level(spec: dict[str, Any], secret: str | None) -> int:
    """0 off, 1 on, 2 forced; `mfa = "forced"` without a secret is forced-but-not-set-up."""
    mfa = spec.get("mfa")
    if mfa == "forced":
        return 2
    return 1 if secret else 0


def _user(spec: dict[str, Any], now: float) -> User:
    username = str(spec["username"])
    mfa = spec.get("mfa", "totp" if spec.get("totp_secret") else "none")
    secret = spec.get("totp_secret") or (pyotp.random_base32() if mfa == "totp" else None)
    if mfa == "forced":
        secret = spec.get("totp_secret")
    return User(
        id=str(spec.get("id") or stable_id("user", username)),
        username=username,
        name=str(spec.get("name", username)),
        email=str(spec.get("email", f"{username}@example.com")),
        password=str(spec.get("password") or _password()),
        totp_secret=secret,
        is_superuser=bool(spec.get("is_superuser", False)),
        is_active=bool(spec.get("is_active", True)),
        private_tokens=[str(t) for t in spec.get("private_tokens", [])],
        date_joined=now,
        date_expired=now + _SEVENTY_YEARS,
        need_update_password=bool(spec.get("must_change_password", False)),
        mfa_level=_mfa_level(spec, secret),
    )


def _asset(spec: dict[str, Any], builder: _Builder) -> Asset:
    name = str(spec["name"])
    org = builder.org(str(spec.get("org", DEFAULT_ORG_NAME)))
    node_paths = spec.get("nodes") or [f"/{org.name}"]
    protocols = []
    for proto in spec.get("protocols", ["ssh", "sftp"]):
        if isinstance(proto, dict):
            protocols.append(Protocol(str(proto["name"]), int(proto.get("port", 22))))
        else:
            protocols.append(Protocol(str(proto), _DEFAULT_PORTS.get(str(proto), 22)))
    accounts = [
        Account(
            id=stable_id("account", f"{name}/{acc['name']}"),
            name=str(acc["name"]),
            username=str(acc.get("username", acc["name"])),
            secret=str(acc.get("password") or _password()),
        )
        for acc in spec.get("accounts", [{"name": "root"}, {"name": "deploy"}])
    ]
    return Asset(
        id=str(spec.get("id") or stable_id("asset", name)),
        name=name,
        address=str(spec.get("address", "127.0.0.1")),
        org_id=org.id,
        node_ids=[builder.node(p).id for p in node_paths],
        protocols=protocols,
        accounts=accounts,
        is_active=bool(spec.get("is_active", True)),
        comment=str(spec.get("comment", "")),
        date_created=builder.now,
    )


def _generated(count: int) -> list[dict[str, Any]]:
    specs = []
    for i in range(count):
        role = _ROLES[i % len(_ROLES)]
        rack = i // _GENERATED_PER_NODE + 1
        specs.append(
            {
                "name": f"{role}-{i + 1:05d}",
                "address": f"10.{100 + rack // 250}.{rack % 250}.{i % 250 + 1}",
                "nodes": [f"/DEFAULT/fleet/rack-{rack:03d}"],
            }
        )
    return specs


def build_directory(config: dict[str, Any], generated_assets: int, now: float) -> Directory:
    """A Directory from ``config`` plus ``generated_assets`` synthetic hosts."""
    if not 0 <= generated_assets <= MAX_GENERATED_ASSETS:
        raise ValueError(f"--assets must be between 0 and {MAX_GENERATED_ASSETS}")
    builder = _Builder(now)
    for org_spec in config.get("orgs", []):
        builder.node("/" + builder.org(str(org_spec["name"])).name)
    users = [_user(spec, now) for spec in config.get("users", [])]
    by_name = {u.username: u for u in users}
    asset_specs = list(config.get("assets", [])) + _generated(generated_assets)
    assets = [_asset(spec, builder) for spec in asset_specs]
    by_asset_name = {a.name: a for a in assets}
    permissions = []
    for spec in config.get("permissions", []):
        org = builder.org(str(spec.get("org", DEFAULT_ORG_NAME)))
        permissions.append(
            Permission(
                id=stable_id("perm", str(spec["name"])),
                name=str(spec["name"]),
                org_id=org.id,
                user_ids={by_name[u].id for u in spec.get("users", [])},
                asset_ids={by_asset_name[a].id for a in spec.get("assets", [])},
                node_ids={builder.node(p).id for p in spec.get("nodes", [])},
                accounts=[str(a) for a in spec.get("accounts", ["@ALL"])],
                actions=[str(a) for a in spec.get("actions", ALL_ACTIONS)],
                date_expired=spec.get("date_expired", now + _SEVENTY_YEARS),
                date_start=now,
            )
        )
    return Directory(
        users, builder.orgs.values(), builder.nodes_by_path.values(), assets, permissions
    )
