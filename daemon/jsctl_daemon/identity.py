"""Tracks each session's effective remote user (sudo -i, su -, exit), verified by a probe."""

from __future__ import annotations

import logging
import time
from typing import Any

import trio

from .audit import AuditLog
from .consent._identity import (
    PROBE,
    PROBE_OWNER,
    RemoteIdentity,
    at_shell_prompt,
    fresh,
    may_change_identity,
    parse_probe,
)
from .consent._secrets import prompt_of
from .sessions import SessionManager

log = logging.getLogger(__name__)

QUIET_S = 0.3  # no output for this long: the typed command has settled
SETTLE_LIMIT_S = 30.0  # give up waiting for a prompt after this long
PROBE_WAIT_S = 5.0
TAIL = 512
MAX_LINE = 512


class IdentityTracker:
    """Per session: the verified identity, the line being typed, and at most one probe due."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._known: dict[str, RemoteIdentity] = {}
        self._typed: dict[str, bytes] = {}  # memory only, dropped at each Enter
        self._due: dict[str, str] = {}  # session -> what may have changed it
        self._last_via: dict[str, str] = {}
        self._probed: dict[str, trio.Event] = {}  # set when a due probe is over
        self._nursery: trio.Nursery | None = None
        self.sessions: SessionManager | None = None

    def start(self, nursery: trio.Nursery, sessions: SessionManager) -> None:
        """Give the tracker a nursery for its probes and the sessions to probe."""
        self._nursery, self.sessions = nursery, sessions
        self.audit.run_as = self._run_as

    def _run_as(self, session_id: str) -> str | None:
        known = self._known.get(session_id)
        return known.user if known is not None and known.changed else None

    def get(self, session_id: str) -> RemoteIdentity | None:
        """The last verified identity (None until something may have changed it)."""
        return self._known.get(session_id)

    def effective_user(self, session_id: str, account: str) -> str:
        """The user commands run as now (the account's name until a probe says otherwise)."""
        known = self._known.get(session_id)
        return known.user if known is not None else account

    def typed(self, session_id: str, data: bytes) -> None:
        """Look at typed input; schedule a probe once a line that may change the user is entered."""
        line = (self._typed.get(session_id, b"") + data)[-MAX_LINE:]
        if b"\r" not in line and b"\n" not in line and b"\x04" not in line:
            self._typed[session_id] = line
            return
        self._typed.pop(session_id, None)
        via = may_change_identity(line)
        if via is not None:
            self._last_via[session_id] = via
            self.due(session_id, via)

    def due(self, session_id: str, via: str | None = None) -> None:
        """Probe the session once it is quiet at a shell prompt."""
        via = via or self._last_via.get(session_id, "")
        if session_id in self._due:
            if via:
                self._due[session_id] = via
            return
        self._due[session_id] = via
        self._probed[session_id] = trio.Event()
        if self._nursery is not None:
            self._nursery.start_soon(self._probe_when_ready, session_id)

    def forget(self, session_id: str) -> None:
        """Drop what is known about a session."""
        self._known.pop(session_id, None)
        self._typed.pop(session_id, None)
        self._last_via.pop(session_id, None)

    async def _probe_when_ready(self, session_id: str) -> None:
        try:
            await self._probe(session_id)
        except Exception as exc:  # a session ending under the probe is no error of the daemon
            log.debug("identity probe of %s failed: %s", session_id, type(exc).__name__)
        finally:
            self._due.pop(session_id, None)
            self._probed.pop(session_id, trio.Event()).set()

    async def settled(self, session_id: str, patience_s: float) -> None:
        """Wait (a little) for a probe of the session that is under way."""
        probed = self._probed.get(session_id)
        if probed is not None:
            with trio.move_on_after(patience_s):
                await probed.wait()

    def _tail(self, session_id: str) -> bytes:
        assert self.sessions is not None
        info = self.sessions.get(session_id)
        start = max(info.start_offset, info.end_offset - TAIL)
        return self.sessions.read_from(session_id, start, TAIL).data

    async def _probe(self, session_id: str) -> None:
        manager = self.sessions
        assert manager is not None
        with trio.move_on_after(SETTLE_LIMIT_S) as waited:
            while True:
                info = manager.get(session_id)
                if info.state.ended:
                    return
                offset = info.end_offset
                await trio.sleep(QUIET_S)
                info = manager.get(session_id)
                if info.end_offset != offset or info.current_run is not None:
                    continue
                tail = self._tail(session_id)
                if prompt_of(tail) is not None:
                    return  # the person's `jsctl secret` schedules the probe again
                if at_shell_prompt(tail):
                    break
        if waited.cancelled_caught:
            return
        run = await manager.start_run(session_id, PROBE, owner=PROBE_OWNER)
        done = await manager.wait_run(run.id, PROBE_WAIT_S)
        if not done.state.finished:
            return
        found = parse_probe(manager.read_run(run.id, None, 4096).data)
        if found is None:
            return
        self._record(session_id, *found)

    def _record(self, session_id: str, user: str, host: str) -> None:
        assert self.sessions is not None
        request = self.sessions.request_of(session_id)[1]
        # The host is what the first probe found (hostnames rarely match asset names).
        before = self._known.get(session_id) or fresh(request.account, host)
        via = self._due.get(session_id) or None
        if (user, host) == (before.user, before.host):
            before.verified_at = time.time()
            self._known[session_id] = before
            return
        now = RemoteIdentity(before.login_user, before.login_host, user, host, via)
        self._known[session_id] = now
        record: dict[str, Any] = {
            "client": request.owner,
            "action": "identity.change",
            "profile": request.profile,
            "asset": request.asset,
            "account": request.account,
            "session": session_id,
            "from": f"{before.user}@{before.host}",
            "to": f"{user}@{host}",
            "via": via,
            "identity": now.text(request.asset),
        }
        self.audit.append({k: v for k, v in record.items() if v is not None})
