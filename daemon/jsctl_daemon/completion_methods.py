"""The `complete` method's one handler: sessions and clients from memory here; asset, account,
node and profile kinds from the directory cache (directory_methods.complete_directory)."""

from __future__ import annotations

from typing import Any

from .caller import Identity
from .directory import DirectoryDomain
from .directory_methods import complete_directory
from .policy import Policy
from .rpc import HANDLERS, CallContext
from .sessions import SessionManager
from .targets import Targets

_LIMIT = 200  # a shell shows a screenful; more is noise


def session_names(sessions: SessionManager, identity: Identity, prefix: str) -> list[str]:
    """Ids and names of live sessions the caller may see (an agent sees its own only)."""
    names: dict[str, None] = {}
    for info in sessions.list_sessions(owner=identity.scope, include_ended=False).sessions:
        for value in (info.name, info.id):
            if value and value.startswith(prefix):
                names[value] = None
    return list(names)[:_LIMIT]


def client_names(policy: Policy, identity: Identity, prefix: str) -> list[str]:
    """Names of agent clients not revoked (for the person only: agents do not manage clients)."""
    if not identity.is_human:
        return []
    return [
        record["name"]
        for record in policy.listing()
        if not record.get("revoked") and str(record["name"]).startswith(prefix)
    ][:_LIMIT]


@HANDLERS.handler("complete")
async def complete(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    policy: Policy,
    directory: DirectoryDomain,
    targets: Targets,
) -> dict[str, Any]:
    """Completion candidates from the daemon's memory only (never a round trip)."""
    kind, prefix = params["kind"], params.get("prefix", "")
    if kind == "session":
        return {"items": session_names(sessions, ctx.identity, prefix)}
    if kind == "client":
        return {"items": client_names(policy, ctx.identity, prefix)}
    return complete_directory(directory, targets, ctx.identity, params)
