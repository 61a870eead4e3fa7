"""Handlers for client.* (agent identities) and audit.query."""

from __future__ import annotations

from typing import Any

from .audit import AuditLog
from .consent import ApprovalBroker
from .policy import Policy, owner_of
from .rpc import HANDLERS, CallContext
from .sessions import SessionManager


@HANDLERS.handler("client.create")
async def client_create(
    ctx: CallContext, params: dict[str, Any], *, policy: Policy, audit: AuditLog
) -> dict[str, Any]:
    """Create an agent identity; the token is in this reply only."""
    record, token = policy.create(
        params["name"],
        params["allow"],
        params.get("accounts"),
        params.get("tools"),
        params.get("expires"),
        params.get("confirm"),
    )
    audit.record(
        ctx.identity,
        "client.create",
        target=params["name"],
        allow=params["allow"],
        confirm=params.get("confirm"),
    )
    return {"client": record, "token": token}


@HANDLERS.handler("client.list")
async def client_list(
    ctx: CallContext, params: dict[str, Any], *, policy: Policy
) -> dict[str, Any]:
    """Agent identities."""
    return {"clients": policy.listing()}


@HANDLERS.handler("client.revoke")
async def client_revoke(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    policy: Policy,
    approvals: ApprovalBroker,
    sessions: SessionManager,
    audit: AuditLog,
) -> dict[str, Any]:
    """Revoke a client now and close its sessions."""
    record = policy.revoke(params["name"])
    approvals.drop_client(owner_of(record), f"client {params['name']} was revoked")
    closed = []
    for info in sessions.list_sessions(owner=owner_of(record), include_ended=False).sessions:
        await sessions.kill(info.id, by=f"revocation of client {params['name']}")
        closed.append(info.id)
    audit.record(ctx.identity, "client.revoke", target=params["name"], sessions=closed)
    return {"client": record, "closed_sessions": closed}


@HANDLERS.handler("audit.query")
async def audit_query(
    ctx: CallContext, params: dict[str, Any], *, audit: AuditLog
) -> dict[str, Any]:
    """Audit records; with `follow`, then push new ones until the client goes."""
    # An agent sees its own records only: by owner id, so not those of an earlier namesake.
    client = params.get("client") if ctx.identity.is_human else None
    owner = ctx.identity.scope
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
