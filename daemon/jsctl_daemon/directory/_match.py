"""Which cached assets a listing shows: pattern, node subtree, protocol and allow-list."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator

from ._model import AssetRecord
from ._snapshot import Snapshot

AllowFn = Callable[[str, tuple[str, ...]], bool]
"""The policy layer's allow-list: (asset name, node paths) -> may this caller see it."""

AccountAllowFn = Callable[[str, str], bool]
"""The policy layer's account allow-list: (account name, username) -> may this caller use it."""

_GLOB = re.compile(r"[*?\[]")
_GLOB_PART = re.compile(r"[*?]|\[[^\]]*\]?")  # wildcards and character classes


def pattern_matcher(pattern: str | None) -> Callable[[str], bool]:
    """A test on search keys: a glob (``web-*``) on name or address, else a substring of either.

    Matching ignores case; an empty pattern matches everything.
    """
    if not pattern:
        return lambda _key: True
    low = pattern.lower()
    if not _GLOB.search(low):
        return lambda key: low in key
    regex = re.compile(fnmatch.translate(low), re.DOTALL)
    literal = max(_GLOB_PART.split(low), key=len)  # any match contains it: a cheap first test

    def matches(key: str) -> bool:
        if literal not in key:
            return False
        name, _, address = key.rpartition("\n")
        return regex.match(name) is not None or regex.match(address) is not None

    return matches


def select(
    snapshot: Snapshot,
    *,
    pattern: str | None = None,
    node_ids: frozenset[str] | None = None,
    protocol: str | None = None,
    allowed: AllowFn | None = None,
) -> Iterator[AssetRecord]:
    """The snapshot's assets passing every given filter, in name order."""
    matches = pattern_matcher(pattern)
    for key, asset in zip(snapshot.keys, snapshot.assets, strict=True):
        if not matches(key):
            continue
        if node_ids is not None and node_ids.isdisjoint(asset.node_ids):
            continue
        if protocol is not None and protocol not in asset.protocols:
            continue
        if allowed is not None and not allowed(asset.name, snapshot.node_paths(asset)):
            continue
        yield asset


def permitted(
    snapshot: Snapshot, assets: Iterable[AssetRecord], allowed: AllowFn | None
) -> list[AssetRecord]:
    """Those of ``assets`` the allow-list lets through (all of them without one)."""
    if allowed is None:
        return list(assets)
    return [a for a in assets if allowed(a.name, snapshot.node_paths(a))]


def allowed_counts(snapshot: Snapshot, allowed: AllowFn) -> dict[str, int]:
    """Node path -> how many allowed assets sit in its subtree (nodes without any are absent)."""
    counts: dict[str, int] = {}
    for asset in snapshot.assets:
        paths = snapshot.node_paths(asset)
        if not allowed(asset.name, paths):
            continue
        holders = {prefix for path in paths for prefix in _ancestors(path)}
        for holder in holders:
            counts[holder] = counts.get(holder, 0) + 1
    return counts


def _ancestors(path: str) -> Iterator[str]:
    """``/a/b/c`` and every path above it (``/a/b``, ``/a``)."""
    parts = path.split("/")
    for end in range(len(parts), 1, -1):
        yield "/".join(parts[:end])
