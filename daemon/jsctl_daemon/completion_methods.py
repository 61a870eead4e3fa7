"""The `complete` method's one handler: sessions and clients from memory here; asset, account,
node and profile kinds from the directory cache (directory_methods.complete_directory)."""

from __future__ import annotations

from typing import Any

from .directory_methods import complete_directory
from .rpc import HANDLERS, CallContext

_LIMIT = 200  # a shell shows a screenful; more is noise


def session_names(ctx: CallContext, prefix: str) -> list[str]:
    """Ids and names of live sessions the caller may see (an agent sees its own only)."""
    owner = None if ctx.identity.is_human else ctx.identity.owner
    names: dict[str, None] = {}
    for info in ctx.daemon.sessions.list_sessions(owner=owner, include_ended=False).sessions:
        for value in (info.name, info.id):
            if value and value.startswith(prefix):
                names[value] = None
    return list(names)[:_LIMIT]


def client_names(ctx: CallContext, prefix: str) -> list[str]:
    """Names of agent clients not revoked (for the person only: agents do not manage clients)."""
    if not ctx.identity.is_human:
        return []
    return [
        record["name"]
        for record in ctx.daemon.policy.listing()
        if not record.get("revoked") and str(record["name"]).startswith(prefix)
    ][:_LIMIT]


_LOCAL_KINDS = {"session": session_names, "client": client_names}


@HANDLERS.handler("complete")
async def complete(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Completion candidates from the daemon's memory only (never a round trip)."""
    local = _LOCAL_KINDS.get(params["kind"])
    if local is None:
        return complete_directory(ctx, params)
    return {"items": local(ctx, params.get("prefix", ""))}
