"""Client identities for agents: hashed tokens, allow-lists, tool limits, expiry, revocation.

These are guard rails and attribution for agents, not a wall against other processes of the
same user: anything running as the user can read the user's files and talk to the socket.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jsctl_protocol import TOOL_METHODS, Method, Permission, quote_input

from .caller import Identity
from .consent import Rule, parse_rule
from .errors import DomainError
from .storage import read_private_json, write_private_json

TOKEN_PREFIX = "jsc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Names a client may not take: they are how the person appears in listings and the audit.
RESERVED_NAMES = frozenset({"human", "person", "me", "root", "jsctl", "daemon"})

AssetFilter = Callable[[str, Sequence[str]], bool]
AccountFilter = Callable[[str, str], bool]


class PolicyError(DomainError):
    """Base class of the policy's refusals."""


class BadClient(PolicyError):
    """What a client was to be created with cannot work (names what to give instead)."""


class ClientExists(PolicyError):
    """A live client already has that name."""


class UnknownClient(PolicyError):
    """No client by that name."""


class NotAuthenticated(PolicyError):
    """The token is unknown, revoked or expired: the caller is nobody the daemon knows."""


class NotPermitted(PolicyError):
    """The client may not call that method (the person's own, or outside its tools)."""


def hash_token(token: str) -> str:
    """What is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def owner_of(record: dict[str, Any]) -> str:
    """The owner id of a client's sessions and runs: its name and the id it was created with."""
    return f"{record['name']}#{record['id']}"


def _matches(patterns: Sequence[str], *candidates: str) -> bool:
    return any(fnmatch.fnmatchcase(c, p) for p in patterns for c in candidates if c)


class Policy:
    """The registry of agent clients, stored hashed in one 0600 file."""

    def __init__(self, state_dir: Path) -> None:
        self._file = state_dir / "clients.json"
        self.clients: dict[str, dict[str, Any]] = {}
        self.on_revoke: list[Callable[[str], Any]] = []

    def load(self) -> None:
        """Read the registry (a broken file is an error, never overwritten)."""
        data = read_private_json(self._file, "move it away to start with no clients")
        self.clients = dict((data or {}).get("clients", {}))
        missing = [r for r in self.clients.values() if not r.get("id")]
        for record in missing:  # written before clients had ids
            record["id"] = secrets.token_hex(4)
        if missing:
            self._save()

    def _save(self) -> None:
        write_private_json(self._file, {"clients": self.clients})

    def create(
        self,
        name: str,
        allow: list[str],
        accounts: list[str] | None,
        tools: list[str] | None,
        expires: float | None,
        confirm: list[str] | None = None,
    ) -> tuple[dict[str, Any], str]:
        """Register a client; returns its record and its token (shown once, never stored)."""
        if not _NAME.match(name):
            raise BadClient(f"bad client name {name!r}: letters, digits, '.', '_' or '-'")
        if name.lower() in RESERVED_NAMES:
            raise BadClient(
                f"{quote_input(name)} is reserved (it names the person); pick another client name",
            )
        if name in self.clients and not self.clients[name].get("revoked"):
            raise ClientExists(
                f"client {quote_input(name)} exists; revoke it first or pick another name",
            )
        if not allow or not all(isinstance(p, str) and p for p in allow):
            raise BadClient(
                "--allow needs at least one asset/node pattern "
                "(write '*' explicitly to allow everything)",
            )
        unknown_tools = sorted(set(tools or []) - set(TOOL_METHODS))
        if unknown_tools:
            raise BadClient(
                f"unknown tool(s) {', '.join(unknown_tools)}; known: {', '.join(TOOL_METHODS)}",
            )
        for rule in confirm or []:
            parse_rule(rule)  # BadRule names a broken rule before anything is created
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = {
            "name": name,
            "id": secrets.token_hex(4),  # a client re-created under this name is someone else
            "token_sha256": hash_token(token),
            "allow": list(allow),
            "accounts": list(accounts) if accounts else None,
            "tools": list(tools) if tools else None,
            "confirm": list(confirm) if confirm else None,
            "created_at": time.time(),
            "expires_at": time.time() + expires if expires else None,
            "revoked": False,
        }
        self.clients[name] = record
        self._save()
        return self.public(record), token

    @staticmethod
    def public(record: dict[str, Any]) -> dict[str, Any]:
        """A client's record without its token hash."""
        return {k: v for k, v in record.items() if k != "token_sha256"}

    def listing(self) -> list[dict[str, Any]]:
        """Every client (revoked ones too), without hashes."""
        return [self.public(r) for r in sorted(self.clients.values(), key=lambda r: r["name"])]

    def revoke(self, name: str) -> dict[str, Any]:
        """Revoke a client now: its next call is refused."""
        record = self.clients.get(name)
        if record is None:
            raise UnknownClient(f"no client {quote_input(name)} — `jsctl client ls`")
        record["revoked"] = True
        record["revoked_at"] = time.time()
        self._save()
        return self.public(record)

    def identify(self, token: str) -> Identity:
        """The client a token belongs to; UNAUTHORIZED if unknown, revoked or expired."""
        digest = hash_token(token)
        for record in self.clients.values():
            if hmac.compare_digest(record["token_sha256"], digest):
                self._check_active(record)
                return Identity("client", record["name"], owner_of(record))
        raise NotAuthenticated(
            "this client token is not known to the daemon; "
            "create one with `jsctl client create` or `jsctl mcp install`",
        )

    def record_of(self, identity: Identity) -> dict[str, Any] | None:
        """The record of the very client ``identity`` stands for (not a namesake created later)."""
        record = self.clients.get(identity.name)
        if record is None or owner_of(record) != identity.owner:
            return None
        return record

    def _check_active(self, record: dict[str, Any]) -> None:
        if record.get("revoked"):
            raise NotAuthenticated(
                f"client `{record['name']}` was revoked; ask the person to create a new one",
            )
        expires = record.get("expires_at")
        if expires is not None and time.time() > expires:
            raise NotAuthenticated(f"client `{record['name']}`'s token expired")

    def authorize(self, identity: Identity, method: Method) -> None:
        """Refuse what an agent client may not call (checked on every call)."""
        if identity.is_human:
            return
        record = self.record_of(identity)
        if record is None:
            raise NotAuthenticated(f"client `{identity.name}` no longer exists")
        self._check_active(record)
        if method.permission is Permission.HUMAN:
            raise NotPermitted(
                f"`{method.name}` is for the person's own jsctl, "
                f"not for agent client `{identity.name}`",
            )
        tools = record.get("tools")
        if (
            tools
            and not method.every_client
            and not any(method.name in TOOL_METHODS[tool] for tool in tools)
        ):
            raise NotPermitted(
                f"client `{identity.name}` may only use the tools "
                f"{', '.join(tools)}; `{method.name}` is outside them",
            )

    def asset_filter(self, identity: Identity) -> AssetFilter | None:
        """None for the human; else a test on (asset name, node paths) from the allow-list."""
        if identity.is_human:
            return None
        patterns = (self.record_of(identity) or {}).get("allow") or []
        return lambda name, nodes: _matches(patterns, name, *nodes)

    def account_filter(self, identity: Identity) -> AccountFilter | None:
        """None when accounts are unrestricted; else a test on (account name, username)."""
        if identity.is_human:
            return None
        patterns = (self.record_of(identity) or {}).get("accounts")
        if not patterns:
            return None
        return lambda name, username: _matches(patterns, name, username)

    def confirm_rules(self, identity: Identity) -> list[Rule]:
        """The client's approval rules (none for the person)."""
        if identity.is_human:
            return []
        texts = (self.record_of(identity) or {}).get("confirm") or []
        return [parse_rule(text) for text in texts]
