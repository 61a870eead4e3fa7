"""Handlers for session.* and run.* methods: thin glue between the RPC and the sessions layer."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import trio

from jsctl_protocol import MAX_STDIN_BYTES, ErrorCode, RpcError, quote_input
from jsctl_protocol._methods_sessions import WATCH_LINK_PREFIX

from .directory_methods import resolve_target
from .rpc import HANDLERS, CallContext
from .sessions import (
    DEFAULT_READ_BYTES,
    OpenRequest,
    RunInfo,
    SessionBusy,
    SessionInfo,
    SessionManager,
    UnknownRun,
    UnknownSession,
)
from .wire import (
    limits_to_wire,
    read_to_wire,
    run_to_wire,
    server_idle_warning,
    session_to_wire,
)

ATTACH_CHUNK = 256 * 1024
RECENT_BYTES = 64 * 1024  # what an attach shows first when no offset is given
ATTACH_COALESCE_S = 0.001
ATTACH_FLOOD_BYTES = 16 * 1024  # a push this large means output is flooding: gather longer
ATTACH_FLOOD_COALESCE_S = 0.005
DEFAULT_RUN_WAIT_S = 30.0
STREAM_POLL_S = 30.0


def _manager(ctx: CallContext) -> SessionManager:
    return ctx.daemon.sessions


def _visible(ctx: CallContext, ref: str) -> str:
    """The session id for ``ref`` if the caller may see it (agents see only their own)."""
    owner = None if ctx.identity.is_human else ctx.identity.owner
    try:
        session_id, request = _manager(ctx).request_of(ref)
    except UnknownSession:
        ctx.daemon.session_index.explain_session(ref, owner)  # lost with an earlier daemon?
        raise
    if owner is not None and request.owner != owner:
        raise RpcError(
            ErrorCode.NOT_FOUND, f"no session {quote_input(ref)} — `sessions` lists yours"
        )
    return session_id


def _writable(ctx: CallContext, ref: str) -> str:
    session_id = _visible(ctx, ref)
    if session_id in ctx.connection.read_only_sessions:
        raise RpcError(
            ErrorCode.FORBIDDEN,
            f"this connection watches session `{session_id}` "
            "read-only; attach without --read-only to type",
        )
    return session_id


async def _open(ctx: CallContext, params: dict[str, Any]) -> str:
    profile, asset, account = await resolve_target(ctx, params)
    owner = ctx.identity.owner
    manager = _manager(ctx)
    # A reused session is always a pooled one (exec's by default), never a person's shell.
    purpose = params.get("purpose") or ("exec" if params.get("reuse") else "shell")
    if params.get("reuse"):
        # Only the pool's own sessions (exec's, or this agent's), and only one idle at its
        # prompt: never a person's shell, an attached one, or one a program holds.
        free = manager.free_session(
            owner=owner, profile=profile, asset_id=asset.id, account=account.name, purpose=purpose
        )
        if free is not None:
            return free
    request = OpenRequest(
        profile=profile,
        asset=asset.name,
        account=account.name,
        owner=owner,
        asset_id=asset.id,
        account_alias=account.alias,
        cols=params.get("cols", 120),
        rows=params.get("rows", 40),
        name=params.get("name"),
        record_path=ctx.daemon.recording_path(),
        purpose=purpose,
    )
    info = await _manager(ctx).open(request)
    ctx.daemon.audit.record(
        ctx,
        "session.open",
        session=info.id,
        asset=asset.name,
        account=account.name,
        profile=profile,
    )
    base = {
        "client": ctx.identity.name,
        "owner": ctx.identity.owner,
        "session": info.id,
        "asset": asset.name,
    }
    ctx.daemon.audit.watch_session({**base, "profile": profile}, _manager(ctx), info.id)
    return info.id


@HANDLERS.handler("session.open")
async def session_open(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Open (or with `reuse`, find) a terminal session on an asset."""
    session_id = await _open(ctx, params)
    return {"session": session_to_wire(_manager(ctx).get(session_id))}


@HANDLERS.handler("session.list")
async def session_list(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Sessions: all for the human, only its own for an agent."""
    owner = None if ctx.identity.is_human else ctx.identity.owner
    listing = _manager(ctx).list_sessions(owner=owner, include_ended=bool(params.get("all")))
    return {
        "sessions": [session_to_wire(s) for s in listing.sessions],
        "limits": limits_to_wire(listing.limits),
        "lost": ctx.daemon.session_index.lost_for(owner),  # with an earlier daemon
    }


@HANDLERS.handler("session.get")
async def session_get(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """One session."""
    return {"session": session_to_wire(_manager(ctx).get(_visible(ctx, params["session"])))}


@HANDLERS.handler("session.read")
async def session_read(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Output from an offset, waiting up to `wait` seconds for some."""
    manager = _manager(ctx)
    session_id = _visible(ctx, params["session"])
    info = manager.get(session_id)
    offset = params.get("offset", info.start_offset)
    if params.get("wait"):
        info = await manager.wait_for_output(session_id, offset, params["wait"])
    result = manager.read_from(session_id, offset, params.get("max_bytes", DEFAULT_READ_BYTES))
    info = manager.get(session_id)
    return {
        **read_to_wire(result, offset),
        "state": info.state.value,
        "reason": info.reason,
        "end_offset": info.end_offset,
    }


@HANDLERS.handler("session.attach")
async def session_attach(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Push output from an offset until the client goes or the session ends."""
    manager = _manager(ctx)
    read_only = bool(params.get("read_only"))
    ref = params["session"]
    if ref.startswith(WATCH_LINK_PREFIX):
        session_id = _redeem(ctx, ref, read_only)
    else:
        session_id = _visible(ctx, ref)
    info = manager.get(session_id)
    offset = params.get("offset", max(info.start_offset, info.end_offset - RECENT_BYTES))
    attachment = manager.attach(session_id, ctx.identity.name, read_only=read_only)
    if read_only:
        ctx.connection.read_only_sessions.add(session_id)
    await ctx.push({"session": session_to_wire(info), "attachment": attachment.id})
    try:
        pushed = 0
        warned_for: float | None = None  # the activity time the idle warning was pushed for
        while True:
            result = manager.read_from(session_id, offset, ATTACH_CHUNK)
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
            info = await manager.wait_for_output(session_id, offset, patience)
            # Let a burst gather: one larger push costs far less than many small ones (for
            # the daemon, the client and the scheduler that wakes both), and a person cannot
            # see a millisecond; while output floods, a few more.
            await trio.sleep(
                ATTACH_FLOOD_COALESCE_S if pushed >= ATTACH_FLOOD_BYTES else ATTACH_COALESCE_S
            )
    finally:
        ctx.connection.read_only_sessions.discard(session_id)
        manager.detach(session_id, attachment.id)


# --- watch links: the person hands another local client one read-only look at a session


@dataclass(frozen=True)
class _Share:
    session_id: str
    expires_at: float
    by: str


DEFAULT_SHARE_S = 600.0
# Per session manager (one per daemon), by the token's digest: the token itself is never kept,
# logged or audited, and a daemon restart forgets every link (its sessions are gone too).
_SHARES: WeakKeyDictionary[SessionManager, dict[str, _Share]] = WeakKeyDictionary()
_BAD_LINK = "this watch link is unknown, used or expired; ask for a new one (`jsctl share SESSION`)"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _shares(ctx: CallContext) -> dict[str, _Share]:
    shares = _SHARES.setdefault(_manager(ctx), {})
    now = time.time()
    for key in [key for key, share in shares.items() if share.expires_at <= now]:
        del shares[key]
    return shares


@HANDLERS.handler("session.share")
async def session_share(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Mint a one-time, expiring, read-only watch link for a live session."""
    session_id = _visible(ctx, params["session"])
    info = _manager(ctx).get(session_id)
    if info.state.ended:
        raise RpcError(
            ErrorCode.BAD_PARAMS,
            f"session {session_id} has ended ({info.reason}): nothing to watch",
        )
    expires_in = float(params.get("expires", DEFAULT_SHARE_S))
    token = WATCH_LINK_PREFIX + secrets.token_urlsafe(24)
    expires_at = time.time() + expires_in
    _shares(ctx)[_digest(token)] = _Share(session_id, expires_at, ctx.identity.name)
    ctx.daemon.audit.record(
        ctx, "session.share", session=session_id, asset=info.asset, expires_in=expires_in
    )
    return {
        "token": token,
        "session": session_id,
        "asset": info.asset,
        "expires_at": expires_at,
        "command": f"jsctl attach --read-only {token}",
    }


def _redeem(ctx: CallContext, token: str, read_only: bool) -> str:
    """The session a watch link shows, spending the link; refusals never repeat the token."""
    if not read_only:
        raise RpcError(
            ErrorCode.FORBIDDEN, "a watch link only watches: attach with read_only (--read-only)"
        )
    share = _shares(ctx).pop(_digest(token), None)
    if share is None:
        ctx.daemon.audit.record(ctx, "session.watch_refused", reason="unknown, used or expired")
        raise RpcError(ErrorCode.NOT_FOUND, _BAD_LINK)
    info = _manager(ctx).get(share.session_id)  # UnknownSession when it is gone
    allowed = ctx.daemon.policy.asset_filter(ctx.identity)
    if allowed is not None and not allowed(info.asset, ()):
        ctx.daemon.audit.record(
            ctx, "session.watch_refused", session=info.id, reason="asset outside the allow-list"
        )
        raise RpcError(
            ErrorCode.FORBIDDEN,
            f"client `{ctx.identity.name}` may not watch sessions on {info.asset}: it is outside"
            " the client's allow-list (the link is spent)",
        )
    ctx.daemon.audit.record(
        ctx, "session.watch", session=info.id, asset=info.asset, shared_by=share.by
    )
    return share.session_id


def _until_warning(info: SessionInfo) -> float:
    """How long an attach may wait before KoKo's idle warning is due (at most a minute)."""
    if info.server_idle_timeout_s is None or info.server_active_at is None:
        return 60.0
    due = info.server_active_at + info.server_idle_timeout_s - info.server_idle_warning_s
    return min(60.0, max(0.05, due - time.time()))


@HANDLERS.handler("session.write")
async def session_write(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Type into a session."""
    session_id = _writable(ctx, params["session"])
    data = params["data"]
    payload = data.encode() if isinstance(data, str) else data
    await _manager(ctx).write_input(session_id, payload)
    return {"written": len(payload)}


@HANDLERS.handler("session.resize")
async def session_resize(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Resize a session's terminal."""
    cols, rows = params["cols"], params["rows"]
    if not (1 <= cols <= 1000 and 1 <= rows <= 1000):
        raise RpcError(ErrorCode.BAD_PARAMS, "cols and rows must be between 1 and 1000")
    await _manager(ctx).resize(_writable(ctx, params["session"]), cols, rows)
    return {"ok": True}


@HANDLERS.handler("session.kill")
async def session_kill(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """End sessions now."""
    refs = params["sessions"]
    if not all(isinstance(ref, str) for ref in refs):
        raise RpcError(ErrorCode.BAD_PARAMS, "`sessions` must list ids or names")
    session_ids = [_visible(ctx, ref) for ref in refs]  # every one checked before any is killed
    killed = await _manager(ctx).kill_many(session_ids, by=ctx.identity.name)
    for info in killed:
        ctx.daemon.audit.record(
            ctx,
            "session.kill",
            session=info.id,
            asset=info.asset,
            account=info.account,
            profile=info.profile,
        )
    return {"killed": [session_to_wire(info) for info in killed]}


@HANDLERS.handler("session.rename")
async def session_rename(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Give a session a name."""
    info = _manager(ctx).rename(_visible(ctx, params["session"]), params["name"] or None)
    return {"session": session_to_wire(info)}


@HANDLERS.handler("session.screen")
async def session_screen(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The session's screen as a person would see it now."""
    snap = await _manager(ctx).screen(_visible(ctx, params["session"]))
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


# --- runs


async def _run_session(ctx: CallContext, params: dict[str, Any]) -> str:
    if params.get("session"):
        return _writable(ctx, params["session"])
    if params.get("asset"):
        purpose = "agent" if params.get("keep_state") else "exec"
        return await _open(ctx, {**params, "reuse": True, "purpose": purpose})
    raise RpcError(ErrorCode.BAD_PARAMS, "say where to run: a `session`, or an `asset`")


def _visible_run(ctx: CallContext, handle: str) -> str:
    owner = None if ctx.identity.is_human else ctx.identity.owner
    try:
        info = _manager(ctx).get_run(handle)
    except UnknownRun:
        ctx.daemon.session_index.explain_run(handle, owner)  # lost with an earlier daemon?
        raise
    if owner is not None and info.owner != owner:
        raise RpcError(ErrorCode.NOT_FOUND, f"no run {quote_input(handle)}")
    return info.id


@HANDLERS.handler("run.start")
async def run_start(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Run one command; stream its output or answer within `wait` seconds with a handle."""
    manager = _manager(ctx)
    stdin = params.get("stdin")
    if stdin is not None and len(stdin) > MAX_STDIN_BYTES:
        raise RpcError(
            ErrorCode.LIMIT,
            f"standard input of {len(stdin)} bytes is more than exec takes "
            f"({MAX_STDIN_BYTES} bytes): copy the file with `jsctl cp` and redirect from it",
        )
    session_id = await _run_session(ctx, params)
    called_at = time.time()
    keep_state, tty = bool(params.get("keep_state")), bool(params.get("tty"))

    async def start(session_id: str) -> RunInfo:
        return await manager.start_run(
            session_id,
            params["command"],
            owner=ctx.identity.owner,
            request_id=params.get("request_id"),
            time_limit_s=params.get("timeout"),
            stdin=stdin or None,  # no input is the same as an empty one, and cheaper to type
            stdin_from_terminal=tty and not stdin,
            keep_state=keep_state,
            stderr_apart=not (keep_state or tty),
        )

    try:
        started = await start(session_id)
    except SessionBusy:
        info = manager.get(session_id)
        if info.transport_info.get("relaying") is False:  # KoKo's connect prompt: a person's
            raise RpcError(
                ErrorCode.CONFLICT,
                f"KoKo asks for the secret of {info.account} on {info.asset} before it connects"
                f" (session {session_id}): answer it with `jsctl secret {session_id}`, then run"
                " again — the session is kept for it",
                {
                    "session": session_id,
                    "waiting_secret": info.transport_info.get("connect_prompt"),
                },
            ) from None
        if params.get("session"):
            raise  # the caller named it: say what it is doing, never type into it
        # Another caller took that idle pooled session first: this run gets a new one.
        purpose = "agent" if keep_state else "exec"
        session_id = await _open(ctx, {**params, "reuse": False, "purpose": purpose})
        started = await start(session_id)
    audit = ctx.daemon.audit
    # A retried request id answers with the first run: record only runs started by this call.
    # The command is already typed: this bookkeeping overlaps the shell's work.
    record = (
        audit.run_started(
            ctx, started, manager.request_of(session_id)[1], len(stdin) if stdin else 0
        )
        if started.started_at >= called_at
        else None
    )
    try:
        if params.get("stream"):
            answer, run = await _stream_run(ctx, started.id)
        else:
            wait = params.get("wait", DEFAULT_RUN_WAIT_S)
            run = await manager.wait_run(started.id, math.inf if wait < 0 else wait, prompts=True)
            page = manager.read_run(started.id, None, params.get("max_bytes", DEFAULT_READ_BYTES))
            answer = {
                **run_to_wire(run),
                "output": page.data,
                "missed": page.missed,
                "next_offset": page.next_offset,
                "total_bytes": run.readable_end - run.output_offset,
                "stderr": manager.read_run_stderr(started.id).data,
            }
        if record is not None and run.state.finished:
            # After the reply: the caller has its exit status a little sooner.
            ended, record = record, None
            ctx.after_reply.append(lambda: audit.run_ended(ended, run))
        return answer
    finally:
        if record is not None:  # still running (or this call was cancelled): record it later
            audit.watch_run(record, manager, started.id)


async def _stream_run(ctx: CallContext, handle: str) -> tuple[dict[str, Any], RunInfo]:
    manager = _manager(ctx)
    run = manager.get_run(handle)
    # The handle first, so the caller can interrupt exactly this run (its Ctrl-C) while it streams.
    await ctx.push({"handle": handle, "session": run.session_id})
    offset = run.output_offset
    prompt: str | None = None
    while True:
        run = await manager.wait_run(
            handle, STREAM_POLL_S, offset=offset, prompts=True, known_prompt=prompt
        )
        page = manager.read_run(handle, offset, ATTACH_CHUNK)
        if page.data:
            await ctx.push({"data": page.data, "offset": offset})
        elif run.state.finished:
            break
        elif run.prompt is not None and run.prompt != prompt:
            prompt = run.prompt
            await ctx.push({"waiting_input": prompt, "prompt_kind": run.prompt_kind})
        # Always move on: the run's start may lie past where we began (its echo and marker).
        offset = page.next_offset
    answer = {
        **run_to_wire(run),
        "next_offset": offset,
        "total_bytes": offset - run.output_offset,
        "stderr": manager.read_run_stderr(handle).data,
    }
    return answer, run


@HANDLERS.handler("run.get")
async def run_get(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """A run's state."""
    return {"run": run_to_wire(_manager(ctx).get_run(_visible_run(ctx, params["handle"])))}


@HANDLERS.handler("run.wait")
async def run_wait(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Wait for a run to finish (at most `timeout` seconds)."""
    handle = _visible_run(ctx, params["handle"])
    timeout = params.get("timeout")
    run = await _manager(ctx).wait_run(handle, math.inf if timeout is None else timeout)
    return {"run": run_to_wire(run)}


@HANDLERS.handler("run.read")
async def run_read(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """A run's output from an offset (its echo and markers never included)."""
    manager = _manager(ctx)
    handle = _visible_run(ctx, params["handle"])
    offset = params.get("offset")
    if params.get("wait"):
        await manager.wait_run(
            handle,
            params["wait"],
            offset=offset if offset is not None else manager.get_run(handle).output_offset,
        )
    page = manager.read_run(handle, offset, params.get("max_bytes", DEFAULT_READ_BYTES))
    run = manager.get_run(handle)
    start = run.output_offset if offset is None else max(offset, run.output_offset)
    return {
        **read_to_wire(page, start),
        "state": run.state.value,
        "exit_status": run.exit_status,
        "readable_end": run.readable_end,
    }


@HANDLERS.handler("run.interrupt")
async def run_interrupt(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Ctrl-C a run (by handle) or a session's foreground (by session)."""
    target = params["target"]
    manager = _manager(ctx)
    try:
        handle = _visible_run(ctx, target)
    except (UnknownRun, RpcError):  # not a run this caller can see: then it names a session
        run = await manager.interrupt(_writable(ctx, target))
    else:
        run = await manager.interrupt_run(handle)
    ctx.daemon.audit.record(ctx, "run.interrupt", session=target)
    return {"ok": True, "run": run_to_wire(run) if run is not None else None}
