"""Fleets: one command fanned out over many assets, with a cap on runs at once.

A fleet runs in the daemon's own nursery, not in the call that started it: a client that goes
away (or asked for a handle with `--detach`) leaves the fleet running, and `fleet.get` finds it.
Each asset is a :class:`Slot` whose life is pending → opening → running → an end state; one
asset's failure is recorded on its slot and never stops the others.
"""

from __future__ import annotations

import base64
import enum
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from jsctl_protocol import FLEET_HANDLE_PREFIX, ErrorCode, quote_input

from .errors import DomainError
from .fleet_exec import AssetExec, Started, Target
from .sessions import RunInfo
from .translate import as_rpc_error

OPEN_LIMIT_S = 60.0  # an asset whose session does not open in this long is unreachable
KEEP_FINISHED = 32  # finished fleets kept for `fleet.get`, `jsctl wait` and `jsctl logs`


class UnknownFleet(DomainError):
    """No fleet by that handle (for this caller), or no such asset in it."""


class SlotState(enum.StrEnum):
    """Where one asset of a fleet is."""

    PENDING = "pending"  # waiting for a free place under the parallel cap
    OPENING = "opening"  # finding or opening its session
    AWAITING = "awaiting_approval"  # an agent's --confirm rule holds it for the person
    RUNNING = "running"
    DONE = "done"  # the command exited; see exit_status
    TIMEOUT = "timeout"  # the per-asset timeout interrupted it
    INTERRUPTED = "interrupted"  # Ctrl-C (fleet.interrupt) while it ran
    WAITING_INPUT = "waiting_input"  # it stopped at a prompt (nobody answers): interrupted
    LOST = "lost"  # its terminal went away before the command ended
    UNREACHABLE = "unreachable"  # no session could be opened (error says why)
    REFUSED = "refused"  # an allow-list or limit refused this asset
    SKIPPED = "skipped"  # interrupted before it started

    @property
    def outcome(self) -> str:
        """ok / failed / unreachable / skipped / running / pending (for counts and exit codes)."""
        return _OUTCOMES[self]


_OUTCOMES = {
    SlotState.PENDING: "pending",
    SlotState.OPENING: "running",
    SlotState.AWAITING: "running",
    SlotState.RUNNING: "running",
    SlotState.DONE: "failed",  # ok when the exit status is 0: see Slot.outcome
    SlotState.TIMEOUT: "failed",
    SlotState.INTERRUPTED: "failed",
    SlotState.WAITING_INPUT: "failed",
    SlotState.LOST: "unreachable",
    SlotState.UNREACHABLE: "unreachable",
    SlotState.REFUSED: "unreachable",
    SlotState.SKIPPED: "skipped",
}
_REFUSALS = (
    ErrorCode.FORBIDDEN,
    ErrorCode.LIMIT,
    ErrorCode.NOT_FOUND,
    ErrorCode.AMBIGUOUS,
    ErrorCode.BAD_PARAMS,
)
OUTCOMES = ("ok", "failed", "unreachable", "skipped", "running", "pending")


@dataclass(slots=True)
class Slot:
    """One asset of a fleet: where its run is, and how it ended."""

    target: Target
    state: SlotState = SlotState.PENDING
    account: str | None = None
    handle: str | None = None
    session: str | None = None
    exit_status: int | None = None
    started_at: float | None = None
    ended_at: float | None = None
    output_bytes: int = 0
    error: str | None = None

    @property
    def outcome(self) -> str:
        """ok, failed, unreachable, skipped, running or pending."""
        if self.state is SlotState.DONE and self.exit_status == 0:
            return "ok"
        return self.state.outcome

    @property
    def finished(self) -> bool:
        """True once the slot's result is final."""
        return self.outcome not in ("running", "pending")

    def ran(self, started: Started) -> None:
        self.state, self.account, self.error = SlotState.RUNNING, started.account, None
        self.handle, self.session = started.run.id, started.run.session_id

    def ended(self, run: RunInfo, prompt: str | None) -> None:
        self.state = SlotState(run.state.value)  # done, timeout, interrupted or lost
        self.exit_status = run.exit_status
        self.ended_at = run.ended_at or time.time()
        self.output_bytes = run.readable_end - run.output_offset
        if run.note and self.state is not SlotState.DONE:
            self.error = run.note
        if prompt is not None:
            self.state = SlotState.WAITING_INPUT
            self.error = f"stopped at a prompt ({prompt.strip()!r}); a fleet answers none"

    def failed(self, state: SlotState, error: str) -> None:
        self.state, self.error, self.ended_at = state, error, time.time()


def _new_fleet_id() -> str:
    # The prefix tells a fleet handle from a run handle (`abc123-4`) and a session id.
    return FLEET_HANDLE_PREFIX + base64.b32encode(secrets.token_bytes(5)).decode().lower()[:8]


@dataclass
class Fleet:
    """One command on many assets."""

    id: str
    owner: str
    command: str
    selector: dict[str, Any]
    slots: list[Slot]
    parallel: int
    time_limit_s: float | None
    created_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    interrupted: bool = False
    finished: trio.Event = field(default_factory=trio.Event)
    _change: trio.Event = field(default_factory=trio.Event)
    # Slots in the order they finished: streams send each result once, in this order.
    finish_order: list[Slot] = field(default_factory=list)
    executor: AssetExec | None = None

    def counts(self) -> dict[str, int]:
        """How many assets have each outcome (and the total)."""
        counts = dict.fromkeys(OUTCOMES, 0)
        for slot in self.slots:
            counts[slot.outcome] += 1
        return {"total": len(self.slots), **counts}

    @property
    def state(self) -> str:
        """running, or how it ended: done / interrupted."""
        if not self.finished.is_set():
            return "running"
        return "interrupted" if self.interrupted else "done"

    def changed(self) -> None:
        """Wake everyone waiting for news of this fleet."""
        self._change.set()
        self._change = trio.Event()

    async def wait_change(self, max_wait_s: float) -> None:
        """Wait until a slot changes state (or ``max_wait_s`` passes)."""
        change = self._change
        with trio.move_on_after(max_wait_s):
            await change.wait()

    def slot(self, asset: str) -> Slot:
        """The slot of an asset by name, address or id."""
        for slot in self.slots:
            if asset in (slot.target.name, slot.target.address, slot.target.asset_id):
                return slot
        raise UnknownFleet(
            f"fleet {self.id} has no asset `{asset}`; `jsctl wait {self.id}` lists its assets",
        )

    async def run(self, executor: AssetExec, on_end: Callable[[Fleet], None]) -> None:
        """Run every slot (at most ``parallel`` at once) and call ``on_end`` when all ended."""
        self.executor = executor
        limiter = trio.CapacityLimiter(self.parallel)
        try:
            async with trio.open_nursery() as nursery:
                for slot in self.slots:
                    nursery.start_soon(self._run_slot, slot, executor, limiter)
        finally:
            self.ended_at = time.time()
            self.finished.set()
            self.changed()
            on_end(self)

    async def _run_slot(
        self, slot: Slot, executor: AssetExec, limiter: trio.CapacityLimiter
    ) -> None:
        async with limiter:
            if self.interrupted:
                self._finish(slot, lambda: slot.failed(SlotState.SKIPPED, "interrupted first"))
                return
            slot.state, slot.started_at = SlotState.OPENING, time.time()
            self.changed()
            try:
                with trio.fail_after(OPEN_LIMIT_S):
                    session_id = await executor.open(slot.target)
                await executor.hold(session_id, self.command, lambda why: self._held(slot, why))
                if self.interrupted:  # Ctrl-C came while it opened or waited for approval
                    self._finish(slot, lambda: slot.failed(SlotState.SKIPPED, "interrupted first"))
                    return
                started = await executor.run(session_id, self.command, self.time_limit_s)
            except Exception as exc:  # this asset only: the others go on
                error = as_rpc_error(exc, "fleet.start")
                # Not run by choice (allow-list, limit, an account it lacks or must be told)
                # rather than out of reach.
                refused = error.code in _REFUSALS
                state = SlotState.REFUSED if refused else SlotState.UNREACHABLE
                self._finish(slot, lambda: slot.failed(state, error.message))
                return
            slot.ran(started)
            self.changed()
            if self.interrupted:  # Ctrl-C came while the command was being typed
                await executor.interrupt(started.run.id)
            run, prompt = await executor.wait(started)
            self._finish(slot, lambda: slot.ended(run, prompt))

    async def interrupt(self) -> list[str]:
        """Ctrl-C every running run; slots not started yet will be skipped. Names the assets hit."""
        self.interrupted = True
        hit = [s for s in self.slots if not s.finished]
        executor = self.executor
        if executor is not None:
            async with trio.open_nursery() as nursery:
                for slot in hit:
                    if slot.state is SlotState.RUNNING and slot.handle is not None:
                        nursery.start_soon(executor.interrupt, slot.handle)
        self.changed()
        return [slot.target.name for slot in hit]

    def _held(self, slot: Slot, why: str) -> None:
        slot.state, slot.error = SlotState.AWAITING, why
        self.changed()

    def _finish(self, slot: Slot, record: Callable[[], None]) -> None:
        record()
        self.finish_order.append(slot)
        self.changed()


class FleetManager:
    """Every fleet of this daemon; their fan-outs live in the daemon's nursery."""

    def __init__(self) -> None:
        self._fleets: dict[str, Fleet] = {}
        self._nursery: trio.Nursery | None = None

    def start(self, nursery: trio.Nursery) -> None:
        """Give the manager the nursery fleets run in (the daemon's)."""
        self._nursery = nursery

    def create(
        self,
        owner: str,
        command: str,
        selector: dict[str, Any],
        targets: list[Target],
        parallel: int,
        time_limit_s: float | None,
    ) -> Fleet:
        """A new fleet, not started yet."""
        fleet_id = _new_fleet_id()
        while fleet_id in self._fleets:
            fleet_id = _new_fleet_id()
        slots = [Slot(target) for target in targets]
        return Fleet(fleet_id, owner, command, selector, slots, parallel, time_limit_s)

    def launch(self, fleet: Fleet, executor: AssetExec, on_end: Callable[[Fleet], None]) -> None:
        """Start the fleet's fan-out in the background."""
        if self._nursery is None:
            raise RuntimeError("the fleet layer is not running")
        self._forget_old()
        self._fleets[fleet.id] = fleet
        self._nursery.start_soon(fleet.run, executor, on_end)

    def get(self, handle: str, owner: str | None) -> Fleet:
        """The fleet with this handle, if ``owner`` (None: anyone, the human) may see it."""
        fleet = self._fleets.get(handle)
        if fleet is None or (owner is not None and fleet.owner != owner):
            raise UnknownFleet(
                f"no fleet {quote_input(handle)} (finished ones are kept a while)",
            )
        return fleet

    def _forget_old(self) -> None:
        ended = sorted(
            (f for f in self._fleets.values() if f.ended_at is not None),
            key=lambda f: f.ended_at or 0.0,
        )
        for fleet in ended[: max(0, len(ended) - KEEP_FINISHED)]:
            del self._fleets[fleet.id]
