"""The one door from a fleet to single-asset exec: start, wait, read and interrupt one run.

Everything a fleet does to an asset goes through :class:`AssetExec`, so a change to how exec
picks its session (a pool of exec-only sessions per asset/account) or a hold for approval is
an edit here, not in the fan-out.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .audit import AuditLog
from .consent import Action, ApprovalBroker, first_match
from .policy import Policy
from .rpc import CallContext
from .session_access import SessionAccess
from .sessions import ReadResult, RunInfo, SessionBusy, SessionError, SessionManager

# How long an asset waits for room at a session limit (below fleet.OPEN_LIMIT_S, so the limit's
# own refusal is what a slot that never got room reports).
ROOM_WAIT_S = 45.0


@dataclass(frozen=True, slots=True)
class Target:
    """One selected asset: its id (what opening needs) and how people name it."""

    asset_id: str
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class Started:
    """A run started on one asset, and what the audit needs to record its end."""

    run: RunInfo
    account: str
    audit_base: dict[str, Any]


@dataclass(frozen=True)
class FleetServices:
    """What running one command on each asset uses."""

    sessions: SessionManager
    access: SessionAccess
    policy: Policy
    approvals: ApprovalBroker
    audit: AuditLog


class AssetExec:
    """Single-asset exec as the fleet uses it, on behalf of the caller in ``ctx``."""

    def __init__(
        self, ctx: CallContext, params: dict[str, Any], fleet_id: str, services: FleetServices
    ) -> None:
        self._ctx = ctx
        self._fleet_id = fleet_id
        self._services = services
        self._manager = services.sessions
        # What opening a session needs besides the asset; the same for every asset of the fleet.
        self._where = {key: params.get(key) for key in ("account", "profile", "org")}
        self._where["purpose"] = "exec"  # exec's own pooled sessions, never a person's shell

    async def open(self, target: Target) -> str:
        """A session on ``target``: a reused idle one, else a new one (allow-lists and session
        limits apply here, per asset)."""
        where = {**self._where, "asset": target.asset_id, "reuse": True}
        # A fleet larger than a session limit runs through it: an asset waits for another's
        # finished session to make room, well within the fleet's open limit.
        return await self._services.access.open(self._ctx, where, room_wait_s=ROOM_WAIT_S)

    async def hold(self, session_id: str, command: str, on_held: Callable[[str], None]) -> None:
        """Wait for the person's approval when one of the agent's --confirm rules holds this run.

        ``on_held`` hears the request's message; a refusal raises (the asset is then refused).
        """
        ctx = self._ctx
        rules = self._services.policy.confirm_rules(ctx.identity)
        if not rules:
            return
        request = self._manager.request_of(session_id)[1]
        action = Action("run", request.asset, request.account, command)
        rule = first_match(rules, action)
        if rule is None:
            return
        broker = self._services.approvals
        approval = broker.create(
            ctx.identity.owner, action, profile=request.profile, session=session_id, rule=rule.text
        )
        on_held(f"held by rule `{rule.text}` until the person runs `jsctl approve {approval.id}`")
        await broker.decided(approval)  # a stopped fleet withdraws it

    async def run(self, session_id: str, command: str, time_limit_s: float | None) -> Started:
        """Type ``command`` in the session (a fresh one if another caller just took it)."""
        try:
            run = await self._start_in(session_id, command, time_limit_s)
        except SessionBusy:  # another caller took that idle session first
            asset = self._manager.request_of(session_id)[1].asset_id
            session_id = await self._services.access.open(
                self._ctx, {**self._where, "asset": asset}
            )
            run = await self._start_in(session_id, command, time_limit_s)
        request = self._manager.request_of(session_id)[1]
        audit = self._services.audit
        base = audit.run_started(self._ctx.identity, run, request, fleet=self._fleet_id)
        return Started(run, request.account, base)

    async def _start_in(self, session_id: str, command: str, limit: float | None) -> RunInfo:
        # As `jsctl exec` runs it: a child shell of the pooled session, stderr kept apart.
        return await self._manager.start_run(
            session_id,
            command,
            owner=self._ctx.identity.owner,
            time_limit_s=limit,
            stderr_apart=True,
        )

    async def wait(self, started: Started) -> tuple[RunInfo, str | None]:
        """Wait for the run to end (and record it in the audit log), with the prompt it stopped
        at if it waited for input: nobody answers a fleet's prompts, so it is interrupted."""
        handle, prompt = started.run.id, None
        while True:
            run = await self._manager.wait_run(handle, math.inf, prompts=prompt is None)
            if run.state.finished:
                break
            if run.waiting_input and prompt is None:
                prompt = run.prompt
                await self.interrupt(handle)
        self._services.audit.run_ended(started.audit_base, run)
        return run, prompt

    def progress(self, handle: str) -> RunInfo:
        """The run's state now."""
        return self._manager.get_run(handle)

    def read(self, handle: str, offset: int | None, max_bytes: int) -> ReadResult:
        """The run's output from ``offset`` (its start by default); empty once forgotten."""
        try:
            return self._manager.read_run(handle, offset, max_bytes)
        except SessionError:  # the session was forgotten since: nothing left to read
            return ReadResult(b"", offset or 0, 0)

    def read_stderr(self, handle: str, max_bytes: int) -> bytes:
        """The finished run's standard error (empty while it runs, or once forgotten)."""
        try:
            return self._manager.read_run_stderr(handle, max_bytes).data
        except SessionError:
            return b""

    async def wait_output(self, handle: str, offset: int, max_wait_s: float) -> RunInfo:
        """Wait until the run has output past ``offset`` or ends."""
        return await self._manager.wait_run(handle, max_wait_s, offset=offset)

    async def interrupt(self, handle: str) -> None:
        """Ctrl-C the run (nothing if it already ended)."""
        with contextlib.suppress(SessionError):  # a run whose session just went needs none
            await self._manager.interrupt_run(handle)
