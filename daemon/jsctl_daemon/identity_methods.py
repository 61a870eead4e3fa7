"""Where a session's verified remote identity is learnt (typing, secrets) and shown (replies)."""

from __future__ import annotations

from typing import Any

from .identity import IdentityTracker
from .rpc import HANDLERS, Call, CallContext, Layer
from .sessions import SessionManager, UnknownSession

PROBE_PATIENCE_S = 3.0


def _show(
    sessions: SessionManager,
    identities: IdentityTracker,
    session_id: Any,
    target: dict[str, Any],
) -> None:
    if not isinstance(session_id, str):
        return
    try:
        real_id, request = sessions.request_of(session_id)
    except UnknownSession:
        return
    known = identities.get(real_id)
    if known is not None:
        target["effective_user"] = known.user
        target["identity"] = known.text(request.asset)


@HANDLERS.around("session.write", layer=Layer.IDENTITY)
async def _learn_from_typing(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    identities: IdentityTracker,
) -> Any:
    result = await inner(ctx, params)
    session_id = sessions.request_of(params["session"])[0]
    data = params["data"]
    identities.typed(session_id, data.encode() if isinstance(data, str) else data)
    return result


@HANDLERS.around("run.start", layer=Layer.IDENTITY)
async def _after_probe(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    identities: IdentityTracker,
) -> Any:
    ref = params.get("session")
    if isinstance(ref, str):  # a probe under way would make the session busy for a moment
        try:
            session_id = sessions.request_of(ref)[0]
        except UnknownSession:
            pass
        else:
            await identities.settled(session_id, PROBE_PATIENCE_S)
    return await inner(ctx, params)


@HANDLERS.around("secret.send", layer=Layer.IDENTITY)
async def _learn_after_secret(
    inner: Call, ctx: CallContext, params: dict[str, Any], *, identities: IdentityTracker
) -> Any:
    result = await inner(ctx, params)
    identities.due(result["session"])
    return result


_SHOWN = {  # where in the reply the session is (after _after_probe, around it)
    "session.get": "session",
    "session.list": "sessions",
    "session.read": "",
    "run.start": "",
    "run.get": "run",
    "run.read": "",
}


@HANDLERS.around(*_SHOWN, layer=Layer.IDENTITY)
async def _showing(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    identities: IdentityTracker,
) -> Any:
    result = await inner(ctx, params)
    if not isinstance(result, dict):
        return result
    where = _SHOWN[ctx.method]
    if where == "sessions":
        for session in result.get("sessions", []):
            _show(sessions, identities, session.get("id"), session)
    elif where == "session":
        session = result.get("session")
        if isinstance(session, dict):
            _show(sessions, identities, session.get("id"), session)
    else:
        target = result.get(where, result) if where else result
        if isinstance(target, dict):
            _show(sessions, identities, target.get("session") or params.get("session"), target)
    return result
