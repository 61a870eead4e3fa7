"""Where a session's verified remote identity is learnt (typing, secrets) and shown (replies)."""

from __future__ import annotations

from typing import Any

from .rpc import HANDLERS, CallContext, Handler
from .sessions import UnknownSession

PROBE_PATIENCE_S = 3.0


def _show(ctx: CallContext, session_id: Any, target: dict[str, Any]) -> None:
    if not isinstance(session_id, str):
        return
    try:
        real_id, request = ctx.daemon.sessions.request_of(session_id)
    except UnknownSession:
        return
    known = ctx.daemon.identities.get(real_id)
    if known is not None:
        target["effective_user"] = known.user
        target["identity"] = known.text(request.asset)


def _learn_from_typing(handler: Handler) -> Handler:
    async def learning(ctx: CallContext, params: dict[str, Any]) -> Any:
        result = await handler(ctx, params)
        session_id = ctx.daemon.sessions.request_of(params["session"])[0]
        data = params["data"]
        ctx.daemon.identities.typed(session_id, data.encode() if isinstance(data, str) else data)
        return result

    return learning


def _after_probe(handler: Handler) -> Handler:
    async def waiting(ctx: CallContext, params: dict[str, Any]) -> Any:
        ref = params.get("session")
        if isinstance(ref, str):  # a probe under way would make the session busy for a moment
            try:
                session_id = ctx.daemon.sessions.request_of(ref)[0]
            except UnknownSession:
                pass
            else:
                await ctx.daemon.identities.settled(session_id, PROBE_PATIENCE_S)
        return await handler(ctx, params)

    return waiting


def _learn_after_secret(handler: Handler) -> Handler:
    async def learning(ctx: CallContext, params: dict[str, Any]) -> Any:
        result = await handler(ctx, params)
        ctx.daemon.identities.due(result["session"])
        return result

    return learning


def _showing(where: str) -> Any:
    def wrapper(handler: Handler) -> Handler:
        async def showing(ctx: CallContext, params: dict[str, Any]) -> Any:
            result = await handler(ctx, params)
            if not isinstance(result, dict):
                return result
            if where == "sessions":
                for session in result.get("sessions", []):
                    _show(ctx, session.get("id"), session)
            elif where == "session":
                session = result.get("session")
                if isinstance(session, dict):
                    _show(ctx, session.get("id"), session)
            else:
                target = result.get(where, result) if where else result
                if isinstance(target, dict):
                    _show(ctx, target.get("session") or params.get("session"), target)
            return result

        return showing

    return wrapper


_installed = False


def install() -> None:
    """Wrap the handlers that learn or show identities (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    HANDLERS.wrap("session.write", _learn_from_typing)
    HANDLERS.wrap("secret.send", _learn_after_secret)
    HANDLERS.wrap("session.get", _showing("session"))
    HANDLERS.wrap("session.list", _showing("sessions"))
    HANDLERS.wrap("session.read", _showing(""))
    HANDLERS.wrap("run.start", _after_probe)
    HANDLERS.wrap("run.start", _showing(""))
    HANDLERS.wrap("run.get", _showing("run"))
    HANDLERS.wrap("run.read", _showing(""))
