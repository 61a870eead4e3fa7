"""Handlers for client.* (agent identities) and audit.query."""

from __future__ import annotations

from typing import Any

from .policy import owner_of
from .rpc import HANDLERS, CallContext


@HANDLERS.handler("client.create")
async def client_create(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Create an agent identity; the token is in this reply only."""
    record, token = ctx.daemon.policy.create(
        params["name"],
        params["allow"],
        params.get("accounts"),
        params.get("tools"),
        params.get("expires"),
        params.get("confirm"),
    )
    ctx.daemon.audit.record(
        ctx,
        "client.create",
        target=params["name"],
        allow=params["allow"],
        confirm=params.get("confirm"),
    )
    return {"client": record, "token": token}


@HANDLERS.handler("client.list")
async def client_list(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Agent identities."""
    return {"clients": ctx.daemon.policy.listing()}


@HANDLERS.handler("client.revoke")
async def client_revoke(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Revoke a client now and close its sessions."""
    record = ctx.daemon.policy.revoke(params["name"])
    ctx.daemon.approvals.drop_client(owner_of(record), f"client {params['name']} was revoked")
    closed = []
    manager = ctx.daemon.sessions
    for info in manager.list_sessions(owner=owner_of(record), include_ended=False).sessions:
        await manager.kill(info.id, by=f"revocation of client {params['name']}")
        closed.append(info.id)
    ctx.daemon.audit.record(ctx, "client.revoke", target=params["name"], sessions=closed)
    return {"client": record, "closed_sessions": closed}


@HANDLERS.handler("audit.query")
async def audit_query(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Audit records; with `follow`, then push new ones until the client goes."""
    audit = ctx.daemon.audit
    # An agent sees its own records only: by owner id, so not those of an earlier namesake.
    client = params.get("client") if ctx.identity.is_human else None
    owner = None if ctx.identity.is_human else ctx.identity.owner
    records = audit.query(
        client, params.get("asset"), params.get("since"), params.get("limit"), owner
    )
    if not params.get("follow"):
        return {"records": records}
    for record in records:
        await ctx.push(record)
    async for record in audit.follow(client, params.get("asset"), owner):
        await ctx.push(record)
    return {"records": []}
