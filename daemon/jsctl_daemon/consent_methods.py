"""approval.* handlers, and the gates that hold an agent client's calls for the person's consent.

A gate wraps a registered handler: when one of the client's --confirm rules matches the call,
the call becomes an approval request. A run answers at once with `awaiting_approval` and a
handle (the request id) that run.get/run.wait/run.read follow into the real run once approved;
a streaming run (the CLI) waits in place; other actions answer `awaiting_approval` and are
carried out by the daemon when the person approves. Only the person's own front end may
decide, and approving takes a fresh MFA code that the JumpServer server verifies.
"""

from __future__ import annotations

import getpass
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from jsctl_protocol import METHODS, ErrorCode, RpcError

from .audit import AuditLog
from .auth import AuthDomain
from .consent import (
    APPROVED,
    PENDING,
    Action,
    ActionFailed,
    Approval,
    ApprovalBroker,
    CodeVerifier,
    ConsentError,
    Rule,
    first_match,
)
from .consent._broker import _short
from .identity import IdentityTracker
from .policy import Policy
from .rpc import HANDLERS, Call, CallContext, Layer
from .session_access import SessionAccess
from .sessions import SessionManager
from .targets import Targets
from .translate import as_rpc_error

APPROVAL_ID = re.compile(r"^ap-\d+$")
AWAITING = "awaiting_approval"
START_GRACE_S = 10.0  # how long a reader waits for an approved run to be typed


async def _discard(_item: Any) -> None:
    return None


async def _carry_out(inner: Call, policy: Policy, ctx: CallContext, params: dict[str, Any]) -> Any:
    """Run ``inner`` for a call whose caller did not stay (no pushes, after-reply hooks run).

    The client is checked again first: one revoked or expired since it asked gets nothing."""
    policy.authorize(ctx.identity, METHODS[ctx.method])
    later = CallContext(ctx.method, ctx.connection, ctx.request_id, _discard)
    try:
        result = await inner(later, params)
    except Exception as exc:  # recorded on the approval, as the caller would have heard it
        raise ActionFailed(as_rpc_error(exc, ctx.method).message) from exc
    for hook in later.after_reply:
        hook()
    return result


def _shown(data: str | bytes) -> str:
    """Typed text as a person should read it: control characters spelled out."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _message(approval: Approval) -> str:
    action = approval.action
    return (
        f"held for a person's approval: {action.kind} `{_short(action.command)}` on "
        f"{action.asset} as {action.account} (rule `{approval.rule}`); request {approval.id} — "
        f"the person approves with `jsctl approve {approval.id}` and a code from their "
        "authenticator, or denies it"
    )


# --- runs ----------------------------------------------------------------------------------


def _awaiting_run(approval: Approval) -> dict[str, Any]:
    return {
        "handle": approval.id,
        "session": approval.session,
        "owner": approval.client,
        "command": approval.action.command,
        "request_id": approval.request_id,
        "state": AWAITING,
        "exit_status": None,
        "output_offset": 0,
        "readable_end": 0,
        "started_at": approval.created_at,
        "ended_at": None,
        "note": _message(approval),
        "approval": approval.to_wire(),
    }


@HANDLERS.around("run.start", layer=Layer.APPROVAL)
async def _gate_run_start(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    policy: Policy,
    approvals: ApprovalBroker,
    access: SessionAccess,
    sessions: SessionManager,
    identities: IdentityTracker,
) -> Any:
    rules = policy.confirm_rules(ctx.identity)
    if not rules:
        return await inner(ctx, params)
    approval = approvals.existing(ctx.identity.owner, params.get("request_id"))
    if approval is not None and approval.state == PENDING and not params.get("stream"):
        return {**_awaiting_run(approval), "output": b"", "next_offset": 0, "total_bytes": 0}
    session_id = await access.run_session(ctx, params)
    request = sessions.request_of(session_id)[1]
    params = {**params, "session": session_id, "asset": None}
    user = identities.effective_user(session_id, request.account)
    action = Action("run", request.asset, request.account, params["command"], user)
    rule = first_match(rules, action)
    if rule is None or (approval is not None and approval.state == APPROVED):
        return await inner(ctx, params)
    if approval is not None:  # a retry of a request that was refused
        raise approval.refusal()
    approval = approvals.create(
        ctx.identity.owner,
        action,
        profile=request.profile,
        session=session_id,
        rule=rule.text,
        request_id=params.get("request_id"),
    )
    if params.get("stream"):  # the CLI: wait here, saying so first
        await ctx.push({AWAITING: approval.to_wire(), "message": _message(approval)})
        await approvals.decided(approval)
        return await inner(ctx, params)

    async def start() -> Any:
        answer = await _carry_out(inner, policy, ctx, {**params, "wait": 0.0})
        approval.run = answer["handle"]
        return None

    approval.execute = start
    return {**_awaiting_run(approval), "output": b"", "next_offset": 0, "total_bytes": 0}


async def _follow(
    approvals: ApprovalBroker, ctx: CallContext, handle: str, wait: float
) -> str | Approval:
    """The real run handle behind an approval id, or the still-pending approval."""
    approval = approvals.get(handle, ctx.identity.scope)
    if approval.state == PENDING and wait > 0:
        with trio.move_on_after(wait):
            await approval.decided.wait()
    if approval.state == PENDING:
        return approval
    if approval.state != APPROVED:
        raise approval.refusal()
    with trio.move_on_after(max(wait, START_GRACE_S)):
        await approval.done.wait()
    if approval.run is not None:
        return approval.run
    if approval.error:
        raise RpcError(
            ErrorCode.CONFLICT, f"{approval.id} was approved but could not start: {approval.error}"
        )
    return approval


_WAIT_PARAM = {"run.get": None, "run.wait": "timeout", "run.read": "wait"}


@HANDLERS.around(*_WAIT_PARAM, layer=Layer.APPROVAL)
async def _gate_run_follow(
    inner: Call, ctx: CallContext, params: dict[str, Any], *, approvals: ApprovalBroker
) -> Any:
    handle = params["handle"]
    if not APPROVAL_ID.match(handle):
        return await inner(ctx, params)
    wait_param = _WAIT_PARAM[ctx.method]
    wait = params.get(wait_param) if wait_param else 0.0
    wait = math.inf if wait is None and wait_param == "timeout" else (wait or 0.0)
    began = trio.current_time()
    target = await _follow(approvals, ctx, handle, wait)
    if isinstance(target, str):
        params = {**params, "handle": target}
        if wait_param and params.get(wait_param) is not None:
            spent = trio.current_time() - began
            params[wait_param] = max(0.0, float(params[wait_param]) - spent)
        return await inner(ctx, params)
    if wait_param == "wait":  # run.read
        return {
            "data": b"",
            "offset": 0,
            "next_offset": 0,
            "missed": 0,
            "state": AWAITING,
            "exit_status": None,
            "readable_end": 0,
            "approval": target.to_wire(),
        }
    return {"run": _awaiting_run(target)}


# --- other actions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Uses:
    """What describing a held action needs."""

    access: SessionAccess
    sessions: SessionManager
    identities: IdentityTracker
    targets: Targets


Describe = Callable[[_Uses, CallContext, dict[str, Any]], Awaitable[tuple[str, Action, str | None]]]


async def _describe_write(
    uses: _Uses, ctx: CallContext, params: dict[str, Any]
) -> tuple[str, Action, str | None]:
    session_id = uses.access.writable(ctx, params["session"])
    request = uses.sessions.request_of(session_id)[1]
    user = uses.identities.effective_user(session_id, request.account)
    return (
        request.profile,
        Action("input", request.asset, request.account, _shown(params["data"]), user),
        session_id,
    )


async def _describe_kill(
    uses: _Uses, ctx: CallContext, params: dict[str, Any]
) -> tuple[str, Action, str | None]:
    refs = params["sessions"]
    if not refs or not all(isinstance(ref, str) for ref in refs):
        raise RpcError(ErrorCode.BAD_PARAMS, "`sessions` must list ids or names")
    requests = [uses.sessions.request_of(uses.access.visible(ctx, ref)) for ref in refs]
    first = requests[0][1]
    names = ", ".join(session_id for session_id, _ in requests)
    return (
        first.profile,
        Action("close", first.asset, first.account, f"close {names}"),
        requests[0][0],
    )


def _describe_files(kind: str, what: Callable[[dict[str, Any]], str]) -> Describe:
    async def describe(
        uses: _Uses, ctx: CallContext, params: dict[str, Any]
    ) -> tuple[str, Action, str | None]:
        profile, asset, account = await uses.targets.resolve(ctx.identity, params)
        return profile, Action(kind, asset.name, account.name, what(params)), None

    return describe


_DESCRIBE: dict[str, Describe] = {
    "session.write": _describe_write,
    "session.kill": _describe_kill,
    "files.mkdir": _describe_files("files-write", lambda p: f"mkdir {p['path']}"),
    "files.move": _describe_files("files-write", lambda p: f"move {p['source']} {p['dest']}"),
    "files.upload": _describe_files(
        "files-write", lambda p: f"upload {' '.join(map(str, p['sources']))} to {p['dest']}"
    ),
    "files.remove": _describe_files("files-delete", lambda p: f"remove {p['path']}"),
}


@HANDLERS.around(*_DESCRIBE, layer=Layer.APPROVAL)
async def _gate_action(
    inner: Call,
    ctx: CallContext,
    params: dict[str, Any],
    *,
    policy: Policy,
    approvals: ApprovalBroker,
    access: SessionAccess,
    sessions: SessionManager,
    identities: IdentityTracker,
    targets: Targets,
) -> Any:
    rules: list[Rule] = policy.confirm_rules(ctx.identity)
    if not rules:
        return await inner(ctx, params)
    uses = _Uses(access, sessions, identities, targets)
    profile, action, session = await _DESCRIBE[ctx.method](uses, ctx, params)
    rule = first_match(rules, action)
    if rule is None:
        return await inner(ctx, params)
    approval = approvals.create(
        ctx.identity.owner, action, profile=profile, session=session, rule=rule.text
    )

    async def carry_out() -> Any:
        return await _carry_out(inner, policy, ctx, params)

    approval.execute = carry_out
    raise RpcError(AWAITING, _message(approval), {"approval": approval.to_wire()})


# --- the person's side ------------------------------------------------------------------------


@HANDLERS.handler("approval.list")
async def approval_list(
    ctx: CallContext, params: dict[str, Any], *, approvals: ApprovalBroker
) -> dict[str, Any]:
    """Pending requests (all with `all`); with `follow`, then every change."""
    chosen = approvals.everything() if params.get("all") else approvals.pending()
    wires = [approval.to_wire() for approval in chosen]
    if not params.get("follow"):
        return {"approvals": wires}
    for wire in wires:
        await ctx.push(wire)
    async for wire in approvals.follow():
        await ctx.push(wire)
    return {"approvals": []}


@HANDLERS.handler("approval.get")
async def approval_get(
    ctx: CallContext, params: dict[str, Any], *, approvals: ApprovalBroker
) -> dict[str, Any]:
    """One request; waits up to `wait` s for its decision and, once approved, its action."""
    approval = approvals.get(params["id"], ctx.identity.scope)
    wait = params.get("wait") or 0.0
    if wait > 0:
        with trio.move_on_after(wait):
            await approval.decided.wait()
            await approval.done.wait()
    return {"approval": {**approval.to_wire(), "result": approval.result}}


@HANDLERS.handler("approval.decide")
async def approval_decide(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    approvals: ApprovalBroker,
    auth: AuthDomain,
    codes: CodeVerifier,
    audit: AuditLog,
) -> dict[str, Any]:
    """Approve (needs a code JumpServer accepts) or deny requests."""
    ids = params["ids"]
    if not ids or not all(isinstance(i, str) for i in ids):
        raise RpcError(ErrorCode.BAD_PARAMS, "`ids` must list approval request ids")
    chosen = [approvals.get(i) for i in ids]
    reason = params.get("reason") or None
    if not params["approve"]:
        approvals.decide(chosen, False, getpass.getuser(), "cli", reason)
        return {"approvals": [a.to_wire() for a in chosen]}
    profiles = {a.profile for a in chosen}
    if len(profiles) != 1:
        raise RpcError(
            ErrorCode.BAD_PARAMS,
            "these requests belong to different JumpServer profiles; approve them separately",
        )
    for approval in chosen:  # refuse early: a code is not spent on a decided request
        if approval.state != PENDING:
            raise RpcError(ErrorCode.CONFLICT, f"request {approval.id} is already {approval.state}")
    code = params.get("code")
    if not code:
        raise RpcError(
            ErrorCode.BAD_PARAMS, "approving needs a fresh code from your authenticator app"
        )
    state = auth.profile(profiles.pop())
    try:
        channel = await codes.verify(state, code)
    except ConsentError as exc:
        audit.record(ctx.identity, "approval.code_refused", approvals=ids, error=str(exc))
        raise
    approvals.decide(chosen, True, state.credentials.username, channel, reason)
    return {"approvals": [a.to_wire() for a in chosen]}
