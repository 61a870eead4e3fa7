"""Handlers for assets.*, accounts.list, nodes.list, connect_methods and complete."""

from __future__ import annotations

from typing import Any

from .directory import AllowFn, ResolvedAccount, ResolvedAsset
from .rpc import HANDLERS, CallContext


def allow_list(ctx: CallContext) -> AllowFn | None:
    """The caller's asset allow-list (None: everything, as for the human)."""
    return ctx.daemon.policy.asset_filter(ctx.identity)


async def resolve_target(
    ctx: CallContext, params: dict[str, Any]
) -> tuple[str, ResolvedAsset, ResolvedAccount]:
    """The profile, asset and account a call's `profile`/`asset`/`org`/`account` name, within
    the caller's allow-lists."""
    directory = ctx.daemon.directory
    profile = ctx.daemon.auth.resolve_name(params.get("profile"))
    asset = await directory.resolve_asset(
        profile, params["asset"], params.get("org"), allowed=allow_list(ctx)
    )
    account = await directory.resolve_account(
        profile,
        asset,
        params.get("account"),
        allowed=ctx.daemon.policy.account_filter(ctx.identity),
    )
    return profile, asset, account


def _permitted_accounts(ctx: CallContext, found: dict[str, Any]) -> dict[str, Any]:
    """``found`` with only the accounts the caller's `--accounts` patterns allow."""
    allowed = ctx.daemon.policy.account_filter(ctx.identity)
    if allowed is None:
        return found
    accounts = [a for a in found.get("accounts", []) if allowed(a["name"], a["username"])]
    return {**found, "accounts": accounts}


@HANDLERS.handler("assets.list")
async def assets_list(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Permitted assets from the cache, filtered."""
    return await ctx.daemon.directory.list_assets(
        params.get("profile"),
        params.get("org"),
        pattern=params.get("pattern"),
        node=params.get("node"),
        protocol=params.get("protocol"),
        refresh=bool(params.get("refresh")),
        limit=params.get("limit"),
        allowed=allow_list(ctx),
    )


@HANDLERS.handler("assets.show")
async def assets_show(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """One asset with protocols and accounts."""
    asset = await ctx.daemon.directory.show_asset(
        params.get("profile"),
        params["asset"],
        params.get("org"),
        refresh=bool(params.get("refresh")),
        allowed=allow_list(ctx),
    )
    return {"asset": _permitted_accounts(ctx, asset)}


@HANDLERS.handler("accounts.list")
async def accounts_list(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Accounts permitted on one asset."""
    found = await ctx.daemon.directory.list_accounts(
        params.get("profile"), params["asset"], params.get("org"), allowed=allow_list(ctx)
    )
    return _permitted_accounts(ctx, found)


@HANDLERS.handler("nodes.list")
async def nodes_list(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Nodes in tree order."""
    return await ctx.daemon.directory.list_nodes(
        params.get("profile"),
        params.get("org"),
        refresh=bool(params.get("refresh")),
        allowed=allow_list(ctx),
    )


@HANDLERS.handler("connect_methods")
async def connect_methods(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Connect methods per protocol."""
    return {"methods": await ctx.daemon.directory.connect_methods(params.get("profile"))}


def complete_directory(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Completion candidates for assets, accounts, nodes and profiles from the cache only."""
    items = ctx.daemon.directory.complete(
        params["kind"],
        params.get("prefix", ""),
        params.get("asset"),
        profile=params.get("profile"),
        org=params.get("org"),
        allowed=allow_list(ctx),
    )
    return {"items": items}
