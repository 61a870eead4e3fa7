"""Handlers for run.* methods: one command in a session, its output, its end, its Ctrl-C."""

from __future__ import annotations

import math
import time
from typing import Any

from jsctl_protocol import MAX_STDIN_BYTES, ErrorCode, RpcError

from .audit import AuditLog
from .rpc import HANDLERS, CallContext
from .session_access import SessionAccess
from .session_index import LostSession
from .sessions import DEFAULT_READ_BYTES, RunInfo, SessionBusy, SessionManager, UnknownRun
from .wire import read_to_wire, run_to_wire

DEFAULT_RUN_WAIT_S = 30.0
STREAM_POLL_S = 30.0
STREAM_CHUNK = 256 * 1024


@HANDLERS.handler("run.start")
async def run_start(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    audit: AuditLog,
) -> dict[str, Any]:
    """Run one command; stream its output or answer within `wait` seconds with a handle."""
    stdin = params.get("stdin")
    if stdin is not None and len(stdin) > MAX_STDIN_BYTES:
        raise RpcError(
            ErrorCode.LIMIT,
            f"standard input of {len(stdin)} bytes is more than exec takes "
            f"({MAX_STDIN_BYTES} bytes): copy the file with `jsctl cp` and redirect from it",
        )
    session_id = await access.run_session(ctx, params)
    called_at = time.time()
    keep_state, tty = bool(params.get("keep_state")), bool(params.get("tty"))

    async def start(session_id: str) -> RunInfo:
        return await sessions.start_run(
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
        info = sessions.get(session_id)
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
        session_id = await access.open(ctx, {**params, "reuse": False, "purpose": purpose})
        started = await start(session_id)
    # A retried request id answers with the first run: record only runs started by this call.
    # The command is already typed: this bookkeeping overlaps the shell's work.
    record = (
        audit.run_started(
            ctx.identity, started, sessions.request_of(session_id)[1], len(stdin) if stdin else 0
        )
        if started.started_at >= called_at
        else None
    )
    try:
        if params.get("stream"):
            answer, run = await _stream_run(sessions, ctx, started.id)
        else:
            wait = params.get("wait", DEFAULT_RUN_WAIT_S)
            run = await sessions.wait_run(started.id, math.inf if wait < 0 else wait, prompts=True)
            page = sessions.read_run(started.id, None, params.get("max_bytes", DEFAULT_READ_BYTES))
            answer = {
                **run_to_wire(run),
                "output": page.data,
                "missed": page.missed,
                "next_offset": page.next_offset,
                "total_bytes": run.readable_end - run.output_offset,
                "stderr": sessions.read_run_stderr(started.id).data,
            }
        if record is not None and run.state.finished:
            # After the reply: the caller has its exit status a little sooner.
            ended, record = record, None
            ctx.after_reply.append(lambda: audit.run_ended(ended, run))
        return answer
    finally:
        if record is not None:  # still running (or this call was cancelled): record it later
            audit.watch_run(record, sessions, started.id)


async def _stream_run(
    sessions: SessionManager, ctx: CallContext, handle: str
) -> tuple[dict[str, Any], RunInfo]:
    run = sessions.get_run(handle)
    # The handle first, so the caller can interrupt exactly this run (its Ctrl-C) while it streams.
    await ctx.push({"handle": handle, "session": run.session_id})
    offset = run.output_offset
    prompt: str | None = None
    while True:
        run = await sessions.wait_run(
            handle, STREAM_POLL_S, offset=offset, prompts=True, known_prompt=prompt
        )
        page = sessions.read_run(handle, offset, STREAM_CHUNK)
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
        "stderr": sessions.read_run_stderr(handle).data,
    }
    return answer, run


@HANDLERS.handler("run.get")
async def run_get(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """A run's state."""
    return {"run": run_to_wire(sessions.get_run(access.visible_run(ctx, params["handle"])))}


@HANDLERS.handler("run.wait")
async def run_wait(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """Wait for a run to finish (at most `timeout` seconds)."""
    handle = access.visible_run(ctx, params["handle"])
    timeout = params.get("timeout")
    run = await sessions.wait_run(handle, math.inf if timeout is None else timeout)
    return {"run": run_to_wire(run)}


@HANDLERS.handler("run.read")
async def run_read(
    ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager, access: SessionAccess
) -> dict[str, Any]:
    """A run's output from an offset (its echo and markers never included)."""
    handle = access.visible_run(ctx, params["handle"])
    offset = params.get("offset")
    if params.get("wait"):
        await sessions.wait_run(
            handle,
            params["wait"],
            offset=offset if offset is not None else sessions.get_run(handle).output_offset,
        )
    page = sessions.read_run(handle, offset, params.get("max_bytes", DEFAULT_READ_BYTES))
    run = sessions.get_run(handle)
    start = run.output_offset if offset is None else max(offset, run.output_offset)
    return {
        **read_to_wire(page, start),
        "state": run.state.value,
        "exit_status": run.exit_status,
        "readable_end": run.readable_end,
    }


@HANDLERS.handler("run.interrupt")
async def run_interrupt(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    audit: AuditLog,
) -> dict[str, Any]:
    """Ctrl-C a run (by handle) or a session's foreground (by session)."""
    target = params["target"]
    try:
        handle = access.visible_run(ctx, target)
    except (UnknownRun, LostSession, RpcError):  # not a run this caller sees: a session then
        run = await sessions.interrupt(access.writable(ctx, target))
    else:
        run = await sessions.interrupt_run(handle)
    audit.record(ctx.identity, "run.interrupt", session=target)
    return {"ok": True, "run": run_to_wire(run) if run is not None else None}
