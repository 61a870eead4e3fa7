"""Which assets a fleet runs on: globs, names and a node subtree, within the caller's allow-list."""

from __future__ import annotations

import re
from typing import Any

from jsctl_protocol import ErrorCode, RpcError

from .caller import Identity
from .directory import DirectoryDomain, OutsideAllowList
from .fleet_exec import Target
from .targets import Targets

_GLOB = re.compile(r"[*?\[]")


def is_glob(ref: str) -> bool:
    """Whether ``ref`` is a pattern (``web-*``) rather than one asset's name."""
    return _GLOB.search(ref) is not None


async def select_targets(
    directory: DirectoryDomain, targets: Targets, identity: Identity, params: dict[str, Any]
) -> list[Target]:
    """The assets ``params`` select (by name), each once; errors name the selector that failed.

    An agent's allow-list filters every listing, so it never learns of assets outside it.
    """
    refs: list[Any] = params.get("assets") or []
    node: str | None = params.get("node")
    if not refs and not node:
        raise RpcError(
            ErrorCode.BAD_PARAMS, "say which assets: names, globs such as 'web-*', or a node"
        )
    allowed = targets.assets_for(identity)
    profile, org = params.get("profile"), params.get("org")

    async def listing(pattern: str | None) -> list[dict[str, Any]]:
        found = await directory.list_assets(
            profile, org, pattern=pattern, node=node, allowed=allowed
        )
        assets: list[dict[str, Any]] = found["assets"]
        return assets

    chosen: dict[str, Target] = {}
    in_node: set[str] | None = None
    for ref in refs:
        if not isinstance(ref, str) or not ref.strip():
            raise RpcError(ErrorCode.BAD_PARAMS, "`assets` must list names or globs (strings)")
        if is_glob(ref):
            matched = await listing(ref)
            if not matched:
                where = f" in node {node}" if node else ""
                raise RpcError(ErrorCode.NOT_FOUND, f"no asset you may use matches `{ref}`{where}")
            for row in matched:
                chosen[row["id"]] = Target(row["id"], row["name"], row["address"])
            continue
        try:
            asset = await directory.resolve_asset(profile, ref, org, allowed=allowed)
        except OutsideAllowList:  # an agent is not told that an asset outside its list exists
            if allowed is None:
                raise
            raise RpcError(ErrorCode.NOT_FOUND, f"no asset you may use is named `{ref}`") from None
        if node:
            if in_node is None:
                in_node = {found["id"] for found in await listing(None)}
            if asset.id not in in_node:
                raise RpcError(
                    ErrorCode.NOT_FOUND, f"asset `{asset.name}` is not under node {node}"
                )
        chosen[asset.id] = Target(asset.id, asset.name, asset.address)
    if not refs:
        for row in await listing(None):
            chosen[row["id"]] = Target(row["id"], row["name"], row["address"])
        if not chosen:
            raise RpcError(ErrorCode.NOT_FOUND, f"no asset you may use is under node {node}")
    return sorted(chosen.values(), key=lambda target: target.name)
