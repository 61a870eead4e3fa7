"""Approval requests: created when a rule holds an agent's call, decided by the person.

A request waits until it is approved, denied, withdrawn (its waiting caller went away) or
expires (counted as denied). Approving a request whose caller did not stay to wait runs its
action here, in the daemon, so the agent finds the result later by the request's id.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from ..audit import AuditLog
from ..errors import DomainError
from ._errors import AlreadyDecided, NotApproved, UnknownApproval
from ._rules import Action

PENDING, APPROVED, DENIED, EXPIRED, WITHDRAWN = (
    "pending",
    "approved",
    "denied",
    "expired",
    "withdrawn",
)
KEEP_DECIDED = 200  # decided requests remembered for the agents' later reads

Execute = Callable[[], Awaitable[Any]]


def _short(text: str, most: int = 120) -> str:
    """A command as a message quotes it (the request itself keeps all of it)."""
    return text if len(text) <= most else text[: most - 1] + "…"


@dataclass
class Approval:
    """One held call."""

    id: str
    client: str
    action: Action
    profile: str
    session: str | None
    rule: str
    request_id: str | None
    created_at: float
    expires_at: float
    state: str = PENDING
    decided_at: float | None = None
    decided_by: str | None = None
    channel: str | None = None
    reason: str | None = None
    execute: Execute | None = field(default=None, repr=False)
    run: str | None = None  # the run handle, once an approved run started
    result: Any = None
    error: str | None = None
    decided: trio.Event = field(default_factory=trio.Event, repr=False)
    done: trio.Event = field(default_factory=trio.Event, repr=False)  # the action has run

    def to_wire(self) -> dict[str, Any]:
        """The request as listings and agents see it."""
        return {
            "id": self.id,
            "client": self.client.partition("#")[0],  # the name; `client` holds the owner id
            "kind": self.action.kind,
            "profile": self.profile,
            "asset": self.action.asset,
            "account": self.action.account,
            "session": self.session,
            "command": self.action.command,
            "rule": self.rule,
            "state": self.state,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "age_s": round(time.time() - self.created_at, 1),
            "decided_at": self.decided_at,
            "decided_by": self.decided_by,
            "channel": self.channel,
            "reason": self.reason,
            "run": self.run,
            "error": self.error,
        }

    def refusal(self) -> NotApproved:
        """What the agent is told when the request was not approved."""
        if self.state == EXPIRED:
            why = "nobody approved it in time (an expired request counts as denied)"
        elif self.state == WITHDRAWN:
            why = "the call waiting for it went away before a decision"
        else:
            why = f"denied by {self.decided_by} ({self.channel})"
            if self.reason:
                why += f": {self.reason}"
        return NotApproved(
            f"request {self.id} ({self.action.kind} `{_short(self.action.command)}` on "
            f"{self.action.asset}) was not approved: {why}",
            {"approval": self.to_wire()},
        )


class ApprovalBroker:
    """Every approval request of this daemon, in memory."""

    def __init__(self, audit: AuditLog, timeout_s: float) -> None:
        self.audit = audit
        self.timeout_s = timeout_s
        self._requests: dict[str, Approval] = {}
        self._by_request_id: dict[tuple[str, str], str] = {}
        self._nursery: trio.Nursery | None = None
        self._changes: deque[tuple[int, dict[str, Any]]] = deque(maxlen=500)
        self._sequence = 0
        self._followers = trio.lowlevel.ParkingLot()

    def start(self, nursery: trio.Nursery) -> None:
        """Give the broker a nursery for expiry timers and approved actions."""
        self._nursery = nursery

    def _new_id(self) -> str:
        while True:
            candidate = f"ap-{secrets.randbelow(90000) + 10000}"
            if candidate not in self._requests:
                return candidate

    def _changed(self, approval: Approval) -> None:
        self._sequence += 1
        self._changes.append((self._sequence, approval.to_wire()))
        self._followers.unpark_all()

    def _audit(self, approval: Approval, action: str, **extra: Any) -> None:
        record = {
            "client": approval.client.partition("#")[0],
            "owner": approval.client,
            "action": action,
            "approval": approval.id,
            "kind": approval.action.kind,
            "profile": approval.profile,
            "asset": approval.action.asset,
            "account": approval.action.account,
            "session": approval.session,
            "command": approval.action.command,
            **extra,
        }
        self.audit.append({k: v for k, v in record.items() if v is not None})

    def existing(self, client: str, request_id: str | None) -> Approval | None:
        """The request a retried call (same client and request id) already made."""
        if request_id is None:
            return None
        found = self._by_request_id.get((client, request_id))
        return self._requests.get(found) if found else None

    def create(
        self,
        client: str,
        action: Action,
        *,
        profile: str,
        session: str | None,
        rule: str,
        request_id: str | None = None,
        execute: Execute | None = None,
    ) -> Approval:
        """Hold a call; it expires (as denied) after the configured time."""
        now = time.time()
        approval = Approval(
            id=self._new_id(),
            client=client,
            action=action,
            profile=profile,
            session=session,
            rule=rule,
            request_id=request_id,
            created_at=now,
            expires_at=now + self.timeout_s,
            execute=execute,
        )
        self._requests[approval.id] = approval
        if request_id is not None:
            self._by_request_id[(client, request_id)] = approval.id
        self._forget_old()
        self._audit(approval, "approval.request", rule=rule, expires_at=approval.expires_at)
        self._changed(approval)
        if self._nursery is not None:
            self._nursery.start_soon(self._expire_later, approval)
        return approval

    def _forget_old(self) -> None:
        decided = sorted(
            (a for a in self._requests.values() if a.state != PENDING), key=lambda a: a.created_at
        )
        for approval in decided[: max(0, len(decided) - KEEP_DECIDED)]:
            self._requests.pop(approval.id, None)
            if approval.request_id is not None:
                self._by_request_id.pop((approval.client, approval.request_id), None)

    async def _expire_later(self, approval: Approval) -> None:
        with trio.move_on_at(trio.current_time() + max(0.0, approval.expires_at - time.time())):
            await approval.decided.wait()
        if approval.state == PENDING:
            self._finish(approval, EXPIRED, "nobody", "timeout", "not approved in time")

    def _finish(
        self, approval: Approval, state: str, by: str, channel: str, reason: str | None
    ) -> None:
        approval.state = state
        approval.decided_at = time.time()
        approval.decided_by, approval.channel, approval.reason = by, channel, reason
        self._audit(
            approval,
            "approval.decision",
            decision=state,
            decided_by=by,
            channel=channel,
            reason=reason,
            waited_s=round(approval.decided_at - approval.created_at, 3),
        )
        approval.decided.set()
        if state != APPROVED or approval.execute is None:
            approval.done.set()
        elif self._nursery is not None:
            self._nursery.start_soon(self._execute, approval)
        self._changed(approval)

    async def _execute(self, approval: Approval) -> None:
        assert approval.execute is not None
        try:
            approval.result = await approval.execute()
        except DomainError as exc:  # said in the action's own words (ActionFailed)
            approval.error = str(exc)
        except Exception as exc:  # the daemon never dies of an approved action
            approval.error = f"{type(exc).__name__}: {exc}"
        finally:
            approval.done.set()
            self._changed(approval)

    def withdraw(self, approval: Approval) -> None:
        """The caller waiting for ``approval`` went away: it can no longer be approved."""
        if approval.state == PENDING:
            self._finish(approval, WITHDRAWN, approval.client, "caller", "the call went away")

    async def decided(self, approval: Approval) -> None:
        """Wait for the person's decision; raise NotApproved unless approved. A caller that
        goes away meanwhile (cancelled) withdraws the request."""
        try:
            await approval.decided.wait()
        finally:
            self.withdraw(approval)  # no-op once decided
        if approval.state != APPROVED:
            raise approval.refusal()

    def drop_client(self, client: str, why: str) -> list[str]:
        """Deny every pending request of ``client`` (it was revoked); their ids."""
        mine = [a for a in self.pending() if a.client == client]
        for approval in mine:
            self._finish(approval, DENIED, "jsctl", "revocation", why)
        return [a.id for a in mine]

    def get(self, approval_id: str, client: str | None = None) -> Approval:
        """A request by id (an agent sees only its own)."""
        approval = self._requests.get(approval_id) or self._requests.get(f"ap-{approval_id}")
        if approval is None or (client is not None and approval.client != client):
            raise UnknownApproval(
                f"no approval request `{approval_id[:40]}` — `jsctl approvals` lists them",
            )
        return approval

    def everything(self) -> list[Approval]:
        """Every remembered request, oldest first."""
        return sorted(self._requests.values(), key=lambda a: a.created_at)

    def pending(self) -> list[Approval]:
        """Requests waiting for a decision, oldest first."""
        return sorted(
            (a for a in self._requests.values() if a.state == PENDING),
            key=lambda a: a.created_at,
        )

    def decide(
        self, approvals: list[Approval], approve: bool, by: str, channel: str, reason: str | None
    ) -> None:
        """Approve or deny requests (each must still be pending)."""
        for approval in approvals:
            if approval.state != PENDING:
                raise AlreadyDecided(
                    f"request {approval.id} is already {approval.state}"
                    + (f" (by {approval.decided_by})" if approval.decided_by else ""),
                )
        for approval in approvals:
            self._finish(approval, APPROVED if approve else DENIED, by, channel, reason)

    async def follow(self) -> AsyncIterator[dict[str, Any]]:
        """Every change from now on (new requests, decisions, results)."""
        seen = self._sequence
        while True:
            fresh = [wire for number, wire in self._changes if number > seen]
            seen = self._sequence
            for wire in fresh:
                yield wire
            if not fresh:
                await self._followers.park()
