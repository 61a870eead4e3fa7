"""Turning what a person types into one asset or account, or an error that lists candidates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from jsctl_protocol import quote_input

from ._errors import Ambiguous, NotInDirectory, OutsideAllowList
from ._match import AccountAllowFn, AllowFn, pattern_matcher
from ._model import AccountRecord, AssetRecord, DetailRecord, NodeRecord
from ._snapshot import Snapshot

T = TypeVar("T")
_SHOWN = 10  # candidates named in a message
_MIN_ID_PREFIX = 4


def describe_asset(asset: AssetRecord) -> str:
    """``web-01 (10.0.1.11)`` — how messages name an asset."""
    return f"{asset.name} ({asset.address})"


def describe_account(account: AccountRecord) -> str:
    """``root (username root)`` or ``@INPUT (Manual input)``."""
    if account.is_virtual:
        return f"{account.alias} ({account.name})"
    return f"{account.name} (username {account.username})"


def _listing(items: Sequence[T], describe: Callable[[T], str]) -> str:
    shown = ", ".join(describe(item) for item in items[:_SHOWN])
    more = len(items) - _SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def asset_candidates(snapshot: Snapshot, ref: str) -> list[AssetRecord]:
    """The assets ``ref`` may mean, from the most exact kind of match that finds any."""
    exact = snapshot.by_id.get(ref)
    if exact is not None:
        return [exact]
    named = snapshot.named(ref)
    same_case = [a for a in named if a.name == ref]
    for tier in (same_case, named):
        if tier:
            return tier
    addressed = [a for a in snapshot.assets if a.address == ref]
    if addressed:
        return addressed
    low = ref.lower()
    if len(low) >= _MIN_ID_PREFIX:
        by_id = [a for i, a in snapshot.by_id.items() if i.startswith(low)]
        if by_id:
            return by_id
    return list(snapshot.with_prefix(ref))


def pick_asset(
    snapshot: Snapshot,
    ref: str,
    where: str,
    allowed: AllowFn | None = None,
) -> AssetRecord:
    """The one asset ``ref`` names; NOT_FOUND, AMBIGUOUS or FORBIDDEN (allow-list) otherwise."""
    found = asset_candidates(snapshot, ref)
    if allowed is not None and found:
        permitted = [a for a in found if allowed(a.name, snapshot.node_paths(a))]
        if not permitted:
            raise OutsideAllowList(
                # Said as the caller typed it: the asset's name or address is not described.
                f"asset `{ref}` is outside this client's allow-list",
                {"asset": ref},
            )
        found = permitted
    if len(found) == 1:
        return found[0]
    if not found:
        raise not_found_error(snapshot, ref, where, allowed)
    raise Ambiguous(
        f"{quote_input(ref)} matches {len(found)} assets {where}: "
        f"{_listing(found, describe_asset)} — "
        "type more of the name, or use the address or id",
        {"candidates": [{"id": a.id, "name": a.name, "address": a.address} for a in found]},
    )


def not_found_error(
    snapshot: Snapshot, ref: str, where: str, allowed: AllowFn | None
) -> NotInDirectory:
    """NOT_FOUND naming a few similar assets, if any."""
    matches = pattern_matcher(ref)
    similar = [
        a
        for key, a in zip(snapshot.keys, snapshot.assets, strict=True)
        if matches(key) and (allowed is None or allowed(a.name, snapshot.node_paths(a)))
    ]
    hint = f"; similar: {_listing(similar, describe_asset)}" if similar else ""
    return NotInDirectory(
        f"no permitted asset {quote_input(ref)} {where}{hint} "
        "(`jsctl assets` lists them; `--refresh` if it was added just now)",
        {"asset": ref, "similar": [a.name for a in similar[:_SHOWN]]},
    )


def _account_tiers(accounts: Sequence[AccountRecord], ref: str) -> list[list[AccountRecord]]:
    low = ref.lower()
    return [
        [a for a in accounts if a.alias == ref or (a.is_virtual and a.alias.lower() == low)],
        [a for a in accounts if a.name == ref],
        [a for a in accounts if a.username == ref],
        [a for a in accounts if low in (a.name.lower(), a.username.lower())],
    ]


def _first_tier(accounts: Sequence[AccountRecord], ref: str) -> list[AccountRecord]:
    return next((tier for tier in _account_tiers(accounts, ref) if tier), [])


def _allowed_accounts(
    accounts: list[AccountRecord], ref: str | None, asset: str, allowed: AccountAllowFn
) -> list[AccountRecord]:
    """The accounts inside the allow-list; FORBIDDEN when ``ref`` names only others."""
    permitted = [a for a in accounts if allowed(a.name, a.username)]
    named = _first_tier(accounts, ref) if ref is not None else []
    if named and not any(a in permitted for a in named):
        raise OutsideAllowList(
            f"account {_listing(named, describe_account)} on `{asset}` is outside "
            "this client's account allow-list",
            {"asset": asset, "account": ref},
        )
    if not permitted:
        raise OutsideAllowList(
            f"no account on `{asset}` is inside this client's account allow-list",
            {"asset": asset},
        )
    return permitted


def pick_account(
    detail: DetailRecord, ref: str | None, asset: str, allowed: AccountAllowFn | None = None
) -> AccountRecord:
    """The account ``ref`` names on an asset (None: the only one, preferring real accounts)."""
    accounts = list(detail.accounts)
    if not accounts:
        raise OutsideAllowList(
            f"you may see asset `{asset}` but JumpServer permits you no account on it",
            {"asset": asset},
        )
    if allowed is not None:
        accounts = _allowed_accounts(accounts, ref, asset, allowed)
    if ref is None:
        real = [a for a in accounts if not a.is_virtual]
        found = real or accounts
        if len(found) == 1:
            return found[0]
        raise Ambiguous(
            f"asset `{asset}` has {len(found)} accounts: {_listing(found, describe_account)} "
            "— choose one with --account",
            {"candidates": [a.to_wire() for a in found]},
        )
    for tier in _account_tiers(accounts, ref):
        if len(tier) == 1:
            return tier[0]
        if tier:
            raise Ambiguous(
                f"{quote_input(ref)} matches {len(tier)} accounts on `{asset}`: "
                f"{_listing(tier, describe_account)} — use the alias",
                {"candidates": [a.to_wire() for a in tier]},
            )
    raise NotInDirectory(
        f"asset `{asset}` has no permitted account {quote_input(ref)}; "
        f"permitted: {_listing(accounts, describe_account)}",
        {"asset": asset, "account": ref, "candidates": [a.alias for a in accounts]},
    )


def pick_node(snapshot: Snapshot, ref: str) -> NodeRecord:
    """The node ``ref`` names: id, tree key, full path, or a unique path suffix like ``web``."""
    nodes = sorted(snapshot.nodes.values(), key=lambda n: n.path)
    path = "/" + ref.strip("/")
    low = path.lower()
    tiers = (
        [n for n in nodes if ref in (n.id, n.key)],
        [n for n in nodes if n.path == path],
        [n for n in nodes if n.path.lower() == low],
        [n for n in nodes if n.path.lower().endswith(low)],
    )
    for tier in tiers:
        if len(tier) == 1:
            return tier[0]
        if tier:
            raise Ambiguous(
                f"node {quote_input(ref)} matches {len(tier)} nodes: "
                f"{_listing(tier, lambda n: n.path)} — give the full path",
                {"candidates": [n.path for n in tier]},
            )
    raise NotInDirectory(
        f"no node {quote_input(ref)} among the nodes you may see (`jsctl nodes` lists them)",
        {"node": ref},
    )
