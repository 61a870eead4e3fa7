"""Queries over the sandbox's users, orgs, nodes, assets and permissions."""

from __future__ import annotations

from collections.abc import Iterable

from ._model import (
    ALL_ACTIONS,
    DEFAULT_ORG_ID,
    ROOT_ORG_ID,
    ROOT_ORG_NAME,
    SYSTEM_ORG_ID,
    Asset,
    AssetGrant,
    Node,
    Org,
    Permission,
    User,
)


class Directory:
    """Everything the REST API can list, with per-user permission lookups (cached)."""

    def __init__(
        self,
        users: Iterable[User],
        orgs: Iterable[Org],
        nodes: Iterable[Node],
        assets: Iterable[Asset],
        permissions: Iterable[Permission],
    ) -> None:
        self.users = {u.id: u for u in users}
        self.users_by_name = {u.username: u for u in self.users.values()}
        self.orgs = {o.id: o for o in orgs}
        self.nodes = {n.id: n for n in nodes}
        self.nodes_by_key = {n.key: n for n in self.nodes.values()}
        self.assets = {a.id: a for a in sorted(assets, key=lambda a: a.name)}
        self.permissions = list(permissions)
        self._permitted: dict[str, list[Asset]] = {}
        self._node_counts: dict[str, dict[str, int]] = {}
        self._perm_asset_ids: dict[str, set[str]] = {}

    # --- users -------------------------------------------------------------
    def user_by_login(self, login: str) -> User | None:
        """A user by username or e-mail address."""
        user = self.users_by_name.get(login)
        if user is None:
            user = next((u for u in self.users.values() if u.email == login), None)
        return user

    # --- orgs --------------------------------------------------------------
    def resolve_org(self, value: str | None) -> Org:
        """The current org for an X-JMS-ORG-like value (community edition rules, sheet 4.4)."""
        text = (value or "").strip().lower()
        if text in ("root", ROOT_ORG_ID):
            return Org(ROOT_ORG_ID, ROOT_ORG_NAME)
        if text in ("system", SYSTEM_ORG_ID):
            return Org(SYSTEM_ORG_ID, "SYSTEM")
        return self.orgs.get(text) or self.orgs[DEFAULT_ORG_ID]

    # --- nodes -------------------------------------------------------------
    def node_subtree_keys(self, node: Node) -> set[str]:
        """Keys of the node and all its descendants."""
        prefix = node.key + ":"
        return {k for k in self.nodes_by_key if k == node.key or k.startswith(prefix)}

    def children(self, key: str) -> list[Node]:
        """Direct child nodes of the node with ``key``."""
        return sorted(
            (n for n in self.nodes.values() if n.parent_key == key),
            key=lambda n: [int(p) for p in n.key.split(":")],
        )

    # --- permissions -------------------------------------------------------
    def _perm_assets(self, perm: Permission) -> set[str]:
        cached = self._perm_asset_ids.get(perm.id)
        if cached is not None:
            return cached
        ids = set(perm.asset_ids)
        if perm.node_ids:
            keys: set[str] = set()
            for node_id in perm.node_ids:
                keys |= self.node_subtree_keys(self.nodes[node_id])
            node_ids = {self.nodes_by_key[k].id for k in keys}
            ids |= {a.id for a in self.assets.values() if node_ids.intersection(a.node_ids)}
        self._perm_asset_ids[perm.id] = ids
        return ids

    def permitted_assets(self, user: User) -> list[Asset]:
        """Every asset some permission grants ``user``, sorted by name."""
        cached = self._permitted.get(user.id)
        if cached is None:
            ids: set[str] = set()
            for perm in self.permissions:
                if user.id in perm.user_ids:
                    ids |= self._perm_assets(perm)
            cached = [a for a in self.assets.values() if a.id in ids]
            self._permitted[user.id] = cached
        return cached

    def permitted_node_counts(self, user: User) -> dict[str, int]:
        """Node key -> number of permitted assets in its subtree (only non-empty nodes)."""
        counts = self._node_counts.get(user.id)
        if counts is None:
            counts = {}
            for asset in self.permitted_assets(user):
                keys: set[str] = set()
                for node_id in asset.node_ids:
                    keys.update(ancestor_keys(self.nodes[node_id].key))
                for key in keys:
                    counts[key] = counts.get(key, 0) + 1
            self._node_counts[user.id] = counts
        return counts

    def grant(self, user: User, asset: Asset, now: float) -> AssetGrant | None:
        """The union of ``user``'s unexpired permissions on ``asset`` (None if none match)."""
        matching = [
            p
            for p in self.permissions
            if user.id in p.user_ids and asset.id in self._perm_assets(p)
        ]
        if not matching:
            return None
        live = [p for p in matching if p.date_expired is None or p.date_expired > now]
        names: set[str] = set()
        virtual: list[str] = []
        actions: set[str] = set()
        for perm in live:
            actions |= set(perm.actions)
            for alias in perm.accounts:
                if alias == "@ALL":
                    names |= {a.name for a in asset.accounts}
                elif alias in ("@INPUT", "@USER", "@ANON"):
                    if alias not in virtual:
                        virtual.append(alias)
                else:
                    names.add(alias)
        accounts = [a for a in asset.accounts if a.name in names or a.username in names]
        if "@USER" in virtual and any(a.username == user.username for a in asset.accounts):
            # A real account named like the user replaces the dynamic one (sheet 5.3).
            virtual.remove("@USER")
            accounts += [
                a for a in asset.accounts if a.username == user.username and a not in accounts
            ]
        expiries = [p.date_expired for p in live if p.date_expired is not None]
        expired_all = [p.date_expired for p in matching if p.date_expired is not None]
        return AssetGrant(
            accounts=accounts,
            virtual=virtual,
            actions=[a for a in ALL_ACTIONS if a in actions],
            date_expired=max(expiries) if expiries else (None if live else max(expired_all)),
        )

    def visible_in_org(self, asset: Asset, org: Org) -> bool:
        """Whether ``asset`` shows in lists for the current org."""
        if org.id == ROOT_ORG_ID:
            return True
        if org.id == SYSTEM_ORG_ID:
            return False
        return asset.org_id == org.id


def ancestor_keys(key: str) -> list[str]:
    """The key and every ancestor key ("1:2:3" -> ["1:2:3", "1:2", "1"])."""
    parts = key.split(":")
    return [":".join(parts[:i]) for i in range(len(parts), 0, -1)]
