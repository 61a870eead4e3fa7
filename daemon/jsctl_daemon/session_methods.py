"""Handlers for session.* methods: thin glue between the RPC and the sessions layer."""

from __future__ import annotations

import time
from typing import Any

import trio

from jsctl_protocol import ErrorCode, RpcError

from .audit import AuditLog
from .policy import Policy
from .rpc import HANDLERS, CallContext
from .session_access import SessionAccess
from .session_index import SessionIndex
from .sessions import DEFAULT_READ_BYTES, SessionInfo, SessionManager
from .watch_links import DEFAULT_SHARE_S, WatchLinks, is_watch_link
from .wire import limits_to_wire, read_to_wire, server_idle_warning, session_to_wire

ATTACH_CHUNK = 256 * 1024
RECENT_BYTES = 64 * 1024  # what an attach shows first when no offset is given
ATTACH_COALESCE_S = 0.001
ATTACH_FLOOD_BYTES = 16 * 1024  # a push this large means output is flooding: gather longer
ATTACH_FLOOD_COALESCE_S = 0.005


@HANDLERS.handler("session.open")
async def session_open(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Open (or with `reuse`, find) a terminal session on an asset."""
    session_id = await access.open(ctx, params)
    return {"session": session_to_wire(sessions.get(session_id))}


@HANDLERS.handler("session.list")
async def session_list(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    session_index: SessionIndex,
) -> dict[str, Any]:
    """Sessions: all for the human, only its own for an agent."""
    owner = ctx.identity.scope
    listing = sessions.list_sessions(owner=owner, include_ended=bool(params.get("all")))
    return {
        "sessions": [session_to_wire(s) for s in listing.sessions],
        "limits": limits_to_wire(listing.limits),
        "lost": session_index.lost_for(owner),  # with an earlier daemon
    }


@HANDLERS.handler("session.get")
async def session_get(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """One session."""
    return {"session": session_to_wire(sessions.get(access.visible(ctx, params["session"])))}


@HANDLERS.handler("session.read")
async def session_read(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Output from an offset, waiting up to `wait` seconds for some."""
    session_id = access.visible(ctx, params["session"])
    info = sessions.get(session_id)
    offset = params.get("offset", info.start_offset)
    if params.get("wait"):
        info = await sessions.wait_for_output(session_id, offset, params["wait"])
    result = sessions.read_from(session_id, offset, params.get("max_bytes", DEFAULT_READ_BYTES))
    info = sessions.get(session_id)
    return {
        **read_to_wire(result, offset),
        "state": info.state.value,
        "reason": info.reason,
        "end_offset": info.end_offset,
    }


@HANDLERS.handler("session.attach")
async def session_attach(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    watch_links: WatchLinks,
    policy: Policy,
    audit: AuditLog,
) -> dict[str, Any]:
    """Push output from an offset until the client goes or the session ends."""
    read_only = bool(params.get("read_only"))
    ref = params["session"]
    if is_watch_link(ref):
        session_id = _redeem(ctx, ref, read_only, sessions, watch_links, policy, audit)
    else:
        session_id = access.visible(ctx, ref)
    info = sessions.get(session_id)
    offset = params.get("offset", max(info.start_offset, info.end_offset - RECENT_BYTES))
    attachment = sessions.attach(session_id, ctx.identity.name, read_only=read_only)
    if read_only:
        ctx.connection.read_only_sessions.add(session_id)
    await ctx.push({"session": session_to_wire(info), "attachment": attachment.id})
    try:
        pushed = 0
        warned_for: float | None = None  # the activity time the idle warning was pushed for
        while True:
            result = sessions.read_from(session_id, offset, ATTACH_CHUNK)
            if result.data or result.missed:
                await ctx.push(read_to_wire(result, offset))
                offset = result.next_offset
                pushed = len(result.data)
                continue
            if info.state.ended:  # the snapshot is from after the last wait: nothing is left
                return {
                    "state": info.state.value,
                    "reason": info.reason,
                    "exit_status": info.exit_status,
                    "next_offset": offset,
                }
            warning = server_idle_warning(info)
            if warning is not None and info.server_active_at != warned_for:
                warned_for = info.server_active_at
                await ctx.push({"notice": warning})  # once per quiet spell, to stderr
            patience = 60.0 if warned_for == info.server_active_at else _until_warning(info)
            info = await sessions.wait_for_output(session_id, offset, patience)
            # Let a burst gather: one larger push costs far less than many small ones (for
            # the daemon, the client and the scheduler that wakes both), and a person cannot
            # see a millisecond; while output floods, a few more.
            await trio.sleep(
                ATTACH_FLOOD_COALESCE_S if pushed >= ATTACH_FLOOD_BYTES else ATTACH_COALESCE_S
            )
    finally:
        ctx.connection.read_only_sessions.discard(session_id)
        sessions.detach(session_id, attachment.id)


# --- watch links: the person hands another local client one read-only look at a session

_BAD_LINK = "this watch link is unknown, used or expired; ask for a new one (`jsctl share SESSION`)"


@HANDLERS.handler("session.share")
async def session_share(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    watch_links: WatchLinks,
    audit: AuditLog,
) -> dict[str, Any]:
    """Mint a one-time, expiring, read-only watch link for a live session."""
    session_id = access.visible(ctx, params["session"])
    info = sessions.get(session_id)
    if info.state.ended:
        raise RpcError(
            ErrorCode.BAD_PARAMS,
            f"session {session_id} has ended ({info.reason}): nothing to watch",
        )
    expires_in = float(params.get("expires", DEFAULT_SHARE_S))
    token, expires_at = watch_links.mint(session_id, expires_in, ctx.identity.name)
    audit.record(
        ctx.identity, "session.share", session=session_id, asset=info.asset, expires_in=expires_in
    )
    return {
        "token": token,
        "session": session_id,
        "asset": info.asset,
        "expires_at": expires_at,
        "command": f"jsctl attach --read-only {token}",
    }


def _redeem(
    ctx: CallContext,
    token: str,
    read_only: bool,
    sessions: SessionManager,
    watch_links: WatchLinks,
    policy: Policy,
    audit: AuditLog,
) -> str:
    """The session a watch link shows, spending the link; refusals never repeat the token."""
    if not read_only:
        raise RpcError(
            ErrorCode.FORBIDDEN, "a watch link only watches: attach with read_only (--read-only)"
        )
    share = watch_links.spend(token)
    if share is None:
        audit.record(ctx.identity, "session.watch_refused", reason="unknown, used or expired")
        raise RpcError(ErrorCode.NOT_FOUND, _BAD_LINK)
    info = sessions.get(share.session_id)  # UnknownSession when it is gone
    allowed = policy.asset_filter(ctx.identity)
    if allowed is not None and not allowed(info.asset, ()):
        audit.record(
            ctx.identity,
            "session.watch_refused",
            session=info.id,
            reason="asset outside the allow-list",
        )
        raise RpcError(
            ErrorCode.FORBIDDEN,
            f"client `{ctx.identity.name}` may not watch sessions on {info.asset}: it is outside"
            " the client's allow-list (the link is spent)",
        )
    audit.record(
        ctx.identity, "session.watch", session=info.id, asset=info.asset, shared_by=share.by
    )
    return share.session_id


def _until_warning(info: SessionInfo) -> float:
    """How long an attach may wait before KoKo's idle warning is due (at most a minute)."""
    if info.server_idle_timeout_s is None or info.server_active_at is None:
        return 60.0
    due = info.server_active_at + info.server_idle_timeout_s - info.server_idle_warning_s
    return min(60.0, max(0.05, due - time.time()))


@HANDLERS.handler("session.write")
async def session_write(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Type into a session."""
    session_id = access.writable(ctx, params["session"])
    data = params["data"]
    payload = data.encode() if isinstance(data, str) else data
    await sessions.write_input(session_id, payload)
    return {"written": len(payload)}


@HANDLERS.handler("session.resize")
async def session_resize(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Resize a session's terminal."""
    cols, rows = params["cols"], params["rows"]
    if not (1 <= cols <= 1000 and 1 <= rows <= 1000):
        raise RpcError(ErrorCode.BAD_PARAMS, "cols and rows must be between 1 and 1000")
    await sessions.resize(access.writable(ctx, params["session"]), cols, rows)
    return {"ok": True}


@HANDLERS.handler("session.kill")
async def session_kill(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    audit: AuditLog,
) -> dict[str, Any]:
    """End sessions now."""
    refs = params["sessions"]
    if not all(isinstance(ref, str) for ref in refs):
        raise RpcError(ErrorCode.BAD_PARAMS, "`sessions` must list ids or names")
    session_ids = [
        access.visible(ctx, ref) for ref in refs
    ]  # every one checked before any is killed
    killed = await sessions.kill_many(session_ids, by=ctx.identity.name)
    for info in killed:
        audit.record(
            ctx.identity,
            "session.kill",
            session=info.id,
            asset=info.asset,
            account=info.account,
            profile=info.profile,
        )
    return {"killed": [session_to_wire(info) for info in killed]}


@HANDLERS.handler("session.rename")
async def session_rename(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Give a session a name."""
    info = sessions.rename(access.visible(ctx, params["session"]), params["name"] or None)
    return {"session": session_to_wire(info)}


@HANDLERS.handler("session.screen")
async def session_screen(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """The session's screen as a person would see it now."""
    snap = await sessions.screen(access.visible(ctx, params["session"]))
    return {
        "session": snap.session_id,
        "cols": snap.cols,
        "rows": snap.rows,
        "lines": list(snap.lines),
        "text": "\n".join(line.rstrip() for line in snap.lines),
        "cursor": [snap.cursor_x, snap.cursor_y],
        "title": snap.title,
        "offset": snap.offset,
    }
