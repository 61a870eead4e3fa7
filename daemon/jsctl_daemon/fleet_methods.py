"""Handlers for fleet.*: select, confirm, fan out (in fleet.py), stream per-asset results."""

from __future__ import annotations

import math
from typing import Any

import trio

from jsctl_protocol import ErrorCode, RpcError

from .audit import AuditLog
from .caller import Identity
from .config import Config
from .consent import ApprovalBroker
from .directory import DirectoryDomain
from .fleet import Fleet, FleetManager, Slot
from .fleet_exec import AssetExec, FleetServices
from .fleet_select import select_targets
from .policy import Policy
from .rpc import HANDLERS, CallContext
from .session_access import SessionAccess
from .sessions import SessionManager
from .targets import Targets

DEFAULT_WAIT_S = 30.0
STREAM_POLL_S = 30.0
FOLLOW_CHUNK = 64 * 1024
RESULT_BYTES = 256 * 1024  # output per asset in a streamed result (the rest: `jsctl logs`)
REPLY_BYTES = 8 * 1024 * 1024  # output of all assets in one reply, well under the frame cap
MAX_PARALLEL = 256
_SELECTOR = ("assets", "node", "account", "profile", "org")  # what the audit records


def _visible(fleets: FleetManager, ctx: CallContext, handle: str) -> Fleet:
    return fleets.get(handle, ctx.identity.scope)


def slot_to_wire(slot: Slot, fleet: Fleet, max_bytes: int | None) -> dict[str, Any]:
    """One asset's result; with ``max_bytes``, its output (up to that many bytes) too."""
    ended = slot.ended_at
    row: dict[str, Any] = {
        "asset": slot.target.name,
        "address": slot.target.address,
        "account": slot.account,
        "state": slot.state.value,
        "outcome": slot.outcome,
        "exit_status": slot.exit_status,
        "handle": slot.handle,
        "session": slot.session,
        "duration_s": round(ended - slot.started_at, 3) if ended and slot.started_at else None,
        "bytes": slot.output_bytes,
        "error": slot.error,
    }
    if max_bytes is not None and fleet.executor is not None:
        data = b""
        if slot.handle is not None and max_bytes > 0:
            data = fleet.executor.read(slot.handle, None, max_bytes).data
        stderr = b""
        if slot.handle is not None and max_bytes > 0 and slot.finished:
            stderr = fleet.executor.read_stderr(slot.handle, max_bytes)
        row.update(stdout=data, stderr=stderr, truncated=len(data) < slot.output_bytes)
    return row


def fleet_to_wire(fleet: Fleet, max_bytes: int | None = None) -> dict[str, Any]:
    """The fleet and every asset's result (output only when ``max_bytes`` is given)."""
    share = None if max_bytes is None else min(max_bytes, REPLY_BYTES // max(1, len(fleet.slots)))
    return {
        "fleet": fleet.id,
        "command": fleet.command,
        "selector": fleet.selector,
        "state": fleet.state,
        "counts": fleet.counts(),
        "created_at": fleet.created_at,
        "ended_at": fleet.ended_at,
        "results": [slot_to_wire(slot, fleet, share) for slot in fleet.slots],
    }


def _checked(params: dict[str, Any], settings: Config) -> tuple[int, float | None]:
    parallel = params.get("parallel", settings.daemon.fleet_parallel)
    if not 1 <= parallel <= MAX_PARALLEL:
        raise RpcError(ErrorCode.BAD_PARAMS, f"parallel must be between 1 and {MAX_PARALLEL}")
    timeout = params.get("timeout")
    if timeout is not None and not (0 < timeout < math.inf):
        raise RpcError(ErrorCode.BAD_PARAMS, "timeout must be a positive number of seconds")
    if not params["command"].strip():
        raise RpcError(ErrorCode.BAD_PARAMS, "the command is empty: say what to run")
    return parallel, timeout


def _confirm(settings: Config, identity: Identity, params: dict[str, Any], count: int) -> None:
    most = settings.daemon.fleet_confirm_over
    if not most or count <= most:
        return
    if identity.is_human and params.get("yes"):
        return
    if not identity.is_human:
        raise RpcError(
            ErrorCode.LIMIT,
            f"this selects {count} assets, more than the {most} an agent may run on at once;"
            " narrow the selection (or ask the person to raise fleet_confirm_over)",
        )
    raise RpcError(
        ErrorCode.LIMIT,
        f"this selects {count} assets, more than {most} (fleet_confirm_over): check them with"
        " --dry-run, then confirm with --yes",
        data={"confirm": count},
    )


def _audit_end(audit: AuditLog, identity: Identity) -> Any:
    def record(fleet: Fleet) -> None:
        audit.record(
            identity,
            "fleet.end",
            fleet=fleet.id,
            state=fleet.state,
            counts=fleet.counts(),
            results={
                s.target.name: s.exit_status if s.state.value == "done" else s.state.value
                for s in fleet.slots
            },
        )

    return record


@HANDLERS.handler("fleet.start")
async def fleet_start(
    ctx: CallContext,
    params: dict[str, Any],
    *,
    settings: Config,
    fleets: FleetManager,
    directory: DirectoryDomain,
    targets: Targets,
    sessions: SessionManager,
    access: SessionAccess,
    policy: Policy,
    approvals: ApprovalBroker,
    audit: AuditLog,
) -> dict[str, Any]:
    """Select, confirm, start in the background, then stream or wait."""
    parallel, timeout = _checked(params, settings)
    chosen = await select_targets(directory, targets, ctx.identity, params)
    if params.get("dry_run"):
        rows = [{"asset": t.name, "address": t.address, "id": t.asset_id} for t in chosen]
        return {"dry_run": True, "assets": rows, "total": len(rows)}
    _confirm(settings, ctx.identity, params, len(chosen))
    selector = {k: params[k] for k in _SELECTOR if k in params}
    command = params["command"]
    fleet = fleets.create(ctx.identity.owner, command, selector, chosen, parallel, timeout)
    audit.record(
        ctx.identity,
        "fleet.start",
        fleet=fleet.id,
        command=command,
        selector=selector,
        assets=[t.name for t in chosen],
        parallel=parallel,
        timeout=timeout,
    )
    uses = FleetServices(sessions, access, policy, approvals, audit)
    fleets.launch(fleet, AssetExec(ctx, params, fleet.id, uses), _audit_end(audit, ctx.identity))
    if params.get("stream"):
        return await _stream(ctx, fleet, bool(params.get("follow")), params.get("max_bytes"))
    wait = params.get("wait", DEFAULT_WAIT_S)
    with trio.move_on_after(math.inf if wait < 0 else wait):
        await fleet.finished.wait()
    return fleet_to_wire(fleet, params.get("max_bytes", RESULT_BYTES))


async def _stream(
    ctx: CallContext, fleet: Fleet, follow: bool, max_bytes: int | None
) -> dict[str, Any]:
    names = [slot.target.name for slot in fleet.slots]
    await ctx.push({"fleet": fleet.id, "assets": names, "parallel": fleet.parallel})
    per_asset = 0 if follow else (RESULT_BYTES if max_bytes is None else max_bytes)
    sent, last_counts = 0, None
    async with trio.open_nursery() as nursery:
        if follow:  # output as it comes, asset by asset; results then carry none
            for slot in fleet.slots:
                nursery.start_soon(_follow_slot, ctx, fleet, slot)
        while True:
            while sent < len(fleet.finish_order):
                slot = fleet.finish_order[sent]
                sent += 1
                await ctx.push({"result": slot_to_wire(slot, fleet, per_asset)})
            counts = fleet.counts()
            if counts != last_counts:
                last_counts = counts
                await ctx.push({"counts": counts})
            if fleet.finished.is_set() and sent == len(fleet.finish_order):
                break
            await fleet.wait_change(STREAM_POLL_S)
    return fleet_to_wire(fleet)


async def _follow_slot(ctx: CallContext, fleet: Fleet, slot: Slot) -> None:
    """Push one asset's output as it comes, until its run ends (or it never starts)."""
    while slot.handle is None:
        if slot.finished:
            return
        await fleet.wait_change(STREAM_POLL_S)
    executor, handle = fleet.executor, slot.handle
    assert executor is not None
    offset: int | None = None
    while True:
        run = executor.progress(handle)  # before reading: a finished run's read is complete
        page = executor.read(handle, offset, FOLLOW_CHUNK)
        if page.data:
            await ctx.push({"asset": slot.target.name, "data": page.data})
        elif run.state.finished:
            return
        else:
            await executor.wait_output(handle, page.next_offset, STREAM_POLL_S)
        offset = page.next_offset


@HANDLERS.handler("fleet.get")
async def fleet_get(
    ctx: CallContext, params: dict[str, Any], *, fleets: FleetManager
) -> dict[str, Any]:
    """A fleet's state and results, waiting up to `timeout` for its end."""
    fleet = _visible(fleets, ctx, params["handle"])
    timeout = params.get("timeout")
    if timeout:
        with trio.move_on_after(timeout):
            await fleet.finished.wait()
    return fleet_to_wire(fleet, params.get("max_bytes"))


@HANDLERS.handler("fleet.interrupt")
async def fleet_interrupt(
    ctx: CallContext, params: dict[str, Any], *, fleets: FleetManager, audit: AuditLog
) -> dict[str, Any]:
    """Ctrl-C every run of the fleet; pending assets are skipped."""
    fleet = _visible(fleets, ctx, params["handle"])
    hit = await fleet.interrupt()
    audit.record(ctx.identity, "fleet.interrupt", fleet=fleet.id, assets=hit)
    return {"fleet": fleet.id, "interrupted": hit}
