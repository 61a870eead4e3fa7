"""secret.send, and the guards that keep an agent from seeing or answering password prompts.

When a session's newest output is a password prompt, replies about it (runs, reads, session
info) carry `waiting_secret` with the prompt, a run an agent is waiting on answers at once
instead of at the end of its wait, and an agent's typing there is refused: the person answers
with `jsctl secret SESSION`, whose bytes go to the remote terminal only.
"""

from __future__ import annotations

from typing import Any

import trio

from jsctl_protocol import ErrorCode, RpcError

from .audit import AuditLog
from .consent import SecretFilter, is_control_only, prompt_of
from .rpc import HANDLERS, Call, CallContext, Layer
from .session_access import SessionAccess
from .sessions import DEFAULT_READ_BYTES, SessionManager
from .wire import run_to_wire

TAIL_BYTES = 512
SETTLE_S = 0.05  # a prompt must stay the newest output this long (not a passing echo)
ECHO_WATCH_S = 1.0  # after typing a secret, how long to watch for its echo
CONNECT_WAIT_S = 30.0  # after a connect secret, how long KoKo may take to reach the shell


def secret_prompt(sessions: SessionManager, session_id: str) -> str | None:
    """The password prompt the session waits at, if it does."""
    info = sessions.get(session_id)
    if info.state.ended:
        return None
    start = max(info.start_offset, info.end_offset - TAIL_BYTES)
    found = prompt_of(sessions.read_from(session_id, start, TAIL_BYTES).data)
    asked = info.transport_info.get("connect_prompt")  # KoKo asks before it connects
    return found or (str(asked) if asked else None)


def _refusal(session_id: str, prompt: str) -> RpcError:
    return RpcError(
        ErrorCode.FORBIDDEN,
        f"session {session_id} waits for a secret ({prompt!r}): only a person may answer it, "
        f"with `jsctl secret {session_id}`; you can interrupt it (Ctrl-C) instead",
        {"waiting_secret": prompt, "session": session_id},
    )


def _annotate(sessions: SessionManager, session_id: str | None, target: dict[str, Any]) -> None:
    if session_id and target.get("state") in ("running", "live", "starting"):
        prompt = secret_prompt(sessions, session_id)
        if prompt is not None:
            target["waiting_secret"] = prompt


async def _until_prompt(sessions: SessionManager, session_id: str) -> str:
    offset = sessions.get(session_id).end_offset
    while True:
        info = await sessions.wait_for_output(session_id, offset, 60.0)
        if info.state.ended:
            await trio.sleep_forever()
        offset = info.end_offset
        if secret_prompt(sessions, session_id) is not None:
            await trio.sleep(SETTLE_S)
            prompt = secret_prompt(sessions, session_id)
            if prompt is not None and sessions.get(session_id).end_offset == offset:
                return prompt


@HANDLERS.around("run.start", layer=Layer.SECRET)
async def _guard_run_start(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
) -> Any:
    if ctx.identity.is_human or params.get("stream"):
        return await inner(ctx, params)
    session_id = await access.run_session(ctx, params)
    params = {**params, "session": session_id, "asset": None}
    prompt = secret_prompt(sessions, session_id)
    if prompt is not None:
        raise _refusal(session_id, prompt)
    result: dict[str, Any] | None = None
    try:
        async with trio.open_nursery() as nursery:

            async def call() -> None:
                nonlocal result
                result = await inner(ctx, params)
                nursery.cancel_scope.cancel()

            async def watch() -> None:
                await _until_prompt(sessions, session_id)
                nursery.cancel_scope.cancel()

            nursery.start_soon(call)
            nursery.start_soon(watch)
    except BaseExceptionGroup as group:  # the run's own refusal (busy, limits) is the answer
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    if result is not None:
        _annotate(sessions, session_id, result)
        return result
    # The run stopped at a password prompt: answer now rather than at the end of `wait`.
    run_id = sessions.get(session_id).current_run
    if run_id is None:
        raise RpcError(ErrorCode.CONFLICT, f"session {session_id} changed; read it again")
    run = sessions.get_run(run_id)
    page = sessions.read_run(run_id, None, params.get("max_bytes", DEFAULT_READ_BYTES))
    answer = {
        **run_to_wire(run),
        "output": page.data,
        "next_offset": page.next_offset,
        "total_bytes": run.readable_end - run.output_offset,
    }
    _annotate(sessions, session_id, answer)
    return answer


@HANDLERS.around("session.write", layer=Layer.SECRET)
async def _guard_write(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    audit: AuditLog,
) -> Any:
    if not ctx.identity.is_human:
        session_id = access.writable(ctx, params["session"])
        data = params["data"]
        payload = data.encode() if isinstance(data, str) else data
        prompt = secret_prompt(sessions, session_id)
        if prompt is not None and not is_control_only(payload):
            audit.record(ctx.identity, "secret.refused_input", session=session_id, prompt=prompt)
            raise _refusal(session_id, prompt)
    return await inner(ctx, params)


_ANNOTATED = {  # where in the reply the session's state is
    "run.get": "run",
    "run.wait": "run",
    "run.read": "",
    "session.get": "session",
    "session.open": "session",
    "session.read": "",
}


@HANDLERS.around(*_ANNOTATED, layer=Layer.SECRET)
async def _annotating(
    inner: Call, ctx: CallContext, params: dict[str, Any], *, sessions: SessionManager
) -> Any:
    result = await inner(ctx, params)
    where = _ANNOTATED[ctx.method]
    if isinstance(result, dict):
        target = result.get(where, result) if where else result
        if isinstance(target, dict):
            session = target.get("session") or params.get("session")
            if where == "session":
                session = target.get("id")
            _annotate(sessions, session if isinstance(session, str) else None, target)
    return result


@HANDLERS.handler("secret.send")
async def secret_send(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    sessions: SessionManager,
    access: SessionAccess,
    audit: AuditLog,
) -> dict[str, Any]:
    """Type the person's secret at the session's password prompt, and only there."""

    session_id = access.writable(ctx, params["session"])
    secret = params["secret"]
    if not secret or "\n" in secret or "\r" in secret:
        raise RpcError(ErrorCode.BAD_PARAMS, "the secret must be one non-empty line")
    prompt = secret_prompt(sessions, session_id)
    if prompt is None and not params.get("force"):
        raise RpcError(
            ErrorCode.CONFLICT,
            f"session {session_id} is not at a password prompt, so the terminal may show what is "
            f"typed; look with `jsctl screen {session_id}` (--force sends anyway, its echo is "
            "still removed from jsctl's output)",
        )
    connecting = sessions.connecting(session_id)
    secret_filter = SecretFilter(secret.encode())
    sessions.add_output_filter(session_id, secret_filter)
    before = sessions.get(session_id).end_offset
    await sessions.write_input(session_id, secret.encode() + b"\r")
    await sessions.wait_for_output(session_id, before, ECHO_WATCH_S)
    await trio.sleep(SETTLE_S)
    # KoKo's own prompt: the answer is only through once the shell is there to use (an exec
    # right after must find this session ready, not open another that asks again).
    live = await sessions.wait_ready(session_id, CONNECT_WAIT_S) if connecting else None
    request = sessions.request_of(session_id)[1]
    echoed = secret_filter.hits > 0
    audit.record(
        ctx.identity,
        "secret.send",
        session=session_id,
        asset=request.asset,
        account=request.account,
        prompt=prompt or "(none recognised; forced)",
        echoed=echoed or None,
    )
    return {"session": session_id, "prompt": prompt, "echoed": echoed, "live": live}
