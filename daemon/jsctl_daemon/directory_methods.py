"""Handlers for assets.*, accounts.list, nodes.list, connect_methods and directory completion."""

from __future__ import annotations

from typing import Any

from .caller import Identity
from .directory import DirectoryDomain
from .rpc import HANDLERS, CallContext
from .targets import Targets


@HANDLERS.handler("assets.list")
async def assets_list(
    ctx: CallContext, params: dict[str, Any], *, directory: DirectoryDomain, targets: Targets
) -> dict[str, Any]:
    """Permitted assets from the cache, filtered."""
    return await directory.list_assets(
        params.get("profile"),
        params.get("org"),
        pattern=params.get("pattern"),
        node=params.get("node"),
        protocol=params.get("protocol"),
        refresh=bool(params.get("refresh")),
        limit=params.get("limit"),
        allowed=targets.assets_for(ctx.identity),
    )


@HANDLERS.handler("assets.show")
async def assets_show(
    ctx: CallContext, params: dict[str, Any], *, directory: DirectoryDomain, targets: Targets
) -> dict[str, Any]:
    """One asset with protocols and accounts."""
    asset = await directory.show_asset(
        params.get("profile"),
        params["asset"],
        params.get("org"),
        refresh=bool(params.get("refresh")),
        allowed=targets.assets_for(ctx.identity),
    )
    return {"asset": targets.permitted_accounts(ctx.identity, asset)}


@HANDLERS.handler("accounts.list")
async def accounts_list(
    ctx: CallContext, params: dict[str, Any], *, directory: DirectoryDomain, targets: Targets
) -> dict[str, Any]:
    """Accounts permitted on one asset."""
    found = await directory.list_accounts(
        params.get("profile"),
        params["asset"],
        params.get("org"),
        allowed=targets.assets_for(ctx.identity),
    )
    return targets.permitted_accounts(ctx.identity, found)


@HANDLERS.handler("nodes.list")
async def nodes_list(
    ctx: CallContext, params: dict[str, Any], *, directory: DirectoryDomain, targets: Targets
) -> dict[str, Any]:
    """Nodes in tree order."""
    return await directory.list_nodes(
        params.get("profile"),
        params.get("org"),
        refresh=bool(params.get("refresh")),
        allowed=targets.assets_for(ctx.identity),
    )


@HANDLERS.handler("connect_methods")
async def connect_methods(
    ctx: CallContext, params: dict[str, Any], *, directory: DirectoryDomain
) -> dict[str, Any]:
    """Connect methods per protocol."""
    return {"methods": await directory.connect_methods(params.get("profile"))}


def complete_directory(
    directory: DirectoryDomain, targets: Targets, identity: Identity, params: dict[str, Any]
) -> dict[str, Any]:
    """Completion candidates for assets, accounts, nodes and profiles from the cache only."""
    items = directory.complete(
        params["kind"],
        params.get("prefix", ""),
        params.get("asset"),
        profile=params.get("profile"),
        org=params.get("org"),
        allowed=targets.assets_for(identity),
    )
    return {"items": items}
