"""The sessions the daemon holds, found by id or name, and the changes worth recording."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import trio

from ._errors import UnknownRun, UnknownSession
from ._model import OpenRequest, SessionInfo, SessionLimits, SessionListing, SessionState
from ._run import Run
from ._session import Session

DEFAULT_READ_BYTES = 64 << 10
logger = logging.getLogger(__name__)
EndListener = Callable[[SessionInfo], None]


class Changes:
    """Counts changes to what the session index records (a session opened, ended or renamed,
    a run started or finished) and wakes whoever waits for the next one. Output does not count:
    500 idle sessions cost nothing here."""

    def __init__(self) -> None:
        self.version = 0
        self._waiters = trio.lowlevel.ParkingLot()

    def note(self) -> None:
        """Something recorded changed."""
        self.version += 1
        self._waiters.unpark_all()

    async def wait_past(self, version: int) -> None:
        """Return once a change after ``version`` was noted."""
        while self.version == version:
            await self._waiters.park()


class SessionRegistry:
    """Every session by id (oldest first), the runs' request ids, and their change counter."""

    def __init__(self, limits: SessionLimits) -> None:
        self.limits = limits
        self.changes = Changes()
        self._sessions: dict[str, Session] = {}
        self._requests: dict[tuple[str, str], str] = {}  # (owner, request id) -> run id
        self._end_listeners: dict[str, list[EndListener]] = {}  # session id -> listeners

    def when_ended(self, ref: str, listener: EndListener) -> None:
        """Call ``listener`` with the session's final state once it ends (a callback, not a
        waiting task: 500 idle sessions keep no task each for it)."""
        session = self._session(ref)
        if session.state.ended:
            listener(session.info())
        else:
            self._end_listeners.setdefault(session.id, []).append(listener)

    def _session_changed(self, session_id: str) -> None:
        """A session went live or ended, or one of its runs started or finished."""
        self.changes.note()
        session = self._sessions.get(session_id)
        if session is None or not session.state.ended:
            return
        for listener in self._end_listeners.pop(session_id, ()):
            try:
                listener(session.info())
            except Exception:  # a listener's bug never breaks the session's ending
                logger.exception("session %s: an end listener failed", session_id)

    def _session(self, ref: str) -> Session:
        session = self._sessions.get(ref)
        if session is not None:
            return session
        for candidate in self._sessions.values():
            if candidate.name == ref:
                return candidate
        raise UnknownSession(ref)

    def _run(self, run_id: str) -> Run:
        session_id, _, _ = run_id.rpartition("-")
        session = self._sessions.get(session_id)
        for run in reversed(session.runs) if session is not None else ():  # newest first
            if run.id == run_id:
                return run
        raise UnknownRun(run_id)

    def get(self, ref: str) -> SessionInfo:
        """The session with this id or name."""
        return self._session(ref).info()

    def request_of(self, ref: str) -> tuple[str, OpenRequest]:
        """The session's id and what it was opened with (cheaper than a full snapshot)."""
        session = self._session(ref)
        return session.id, session.request

    def list_sessions(
        self, *, owner: str | None = None, profile: str | None = None, include_ended: bool = True
    ) -> SessionListing:
        """Sessions (oldest first), optionally only one owner's or one profile's."""
        self._forget_old_sessions()
        chosen = tuple(
            s.info()
            for s in sorted(self._sessions.values(), key=lambda s: s.created_at)
            if (owner is None or s.request.owner == owner)
            and (profile is None or s.request.profile == profile)
            and (include_ended or not s.state.ended)
        )
        return SessionListing(chosen, self.limits)

    def free_session(
        self, *, owner: str, profile: str, asset_id: str | None, account: str, purpose: str
    ) -> str | None:
        """A pooled session (``purpose`` "exec" or "agent") idle at its prompt, or None.

        Only sessions opened for the same purpose by the same owner qualify, so a person's
        shell, another client's session or an agent's are never chosen; of those, one that is
        running something, attached (a read-only watcher of an agent's is fine), half typed into
        or held by a program is skipped. The most recently used wins. With none free, one that
        waits for a person to answer KoKo's connect prompt is the answer (the caller says so)
        rather than opening another that would wait too.
        """
        free, waiting = [], []
        for s in self._sessions.values():
            request = s.request
            if (
                s.state is SessionState.LIVE
                and (request.purpose, request.owner, request.profile, request.account)
                == (purpose, owner, profile, account)
                and request.asset_id == asset_id
            ):
                s.release_finished_run()
                if s.why_busy(watchers_ok=purpose == "agent") is None:
                    free.append(s)
                elif s.connecting:
                    waiting.append(s)
        if not free:
            return max(waiting, key=lambda s: s.created_at).id if waiting else None
        return max(free, key=lambda s: s.last_activity_at).id

    def _forget_old_sessions(self) -> None:
        ended = sorted(
            (s for s in self._sessions.values() if s.state.ended and s.done),
            key=lambda s: s.ended_at or 0.0,
        )
        for session in ended[: max(0, len(ended) - self.limits.keep_ended)]:
            del self._sessions[session.id]
            self._forget_requests(session.runs)

    def _forget_requests(self, runs: Iterable[Run]) -> None:
        for run in runs:
            if run.request_id is not None:
                self._requests.pop((run.owner, run.request_id), None)
