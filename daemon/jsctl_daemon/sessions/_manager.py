"""The daemon's sessions API: open, find, list, read, type, run, screen, kill, shut down.

:class:`SessionManager` is assembled from its parts: the registry (finding sessions, the
change counter the session index follows), terminal access (attach, type, read, screen), run
control (commands), and here opening, naming and ending sessions.
"""

from __future__ import annotations

import base64
import re
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import trio

from jsctl_protocol import quote_input

from ._errors import InvalidName, NameTaken, SessionLimitReached
from ._model import OpenRequest, SessionInfo, SessionLimits, SessionState
from ._runs import RunControl
from ._session import Opener, Session
from ._terminal_access import TerminalAccess

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SHUTDOWN_GRACE_S = 5.0
_CLAIM_S = 60.0  # a session handed out for a run that never came is idle again after this


def _spoken_for(session: Session, now: float) -> bool:
    """Handed out by the pool for a run that has not started yet."""
    claimed = session.pool_claimed_at
    if not claimed or now - claimed > _CLAIM_S:
        return False
    return not session.runs or session.runs[-1].started_at < claimed


def _new_session_id() -> str:
    return base64.b32encode(secrets.token_bytes(5)).decode().lower()[:6]


@asynccontextmanager
async def open_session_manager(
    opener: Opener, limits: SessionLimits | None = None
) -> AsyncIterator[SessionManager]:
    """A SessionManager whose session tasks live in a nursery that is closed on exit."""
    async with trio.open_nursery() as nursery:
        manager = SessionManager(nursery, opener, limits or SessionLimits())
        try:
            yield manager
        finally:
            with trio.CancelScope(shield=True):
                await manager.close_all()
            nursery.cancel_scope.cancel()


class SessionManager(RunControl, TerminalAccess):
    """Owns every session (one task each in its nursery) and the runs on them."""

    def __init__(self, nursery: trio.Nursery, opener: Opener, limits: SessionLimits) -> None:
        super().__init__(limits)
        self._nursery = nursery
        self._opener = opener
        # One callback for every session (each tells its id), not a partial per session.
        self._changed = self._session_changed

    # -- opening, naming, ending ------------------------------------------------------------

    async def open(self, request: OpenRequest) -> SessionInfo:
        """Open a terminal through the opener and start pumping its output; returns once live."""
        self._forget_old_sessions()
        self._check_limits(request)
        if request.name is not None:
            self._claim_name(request.name, None)
        session_id = _new_session_id()
        while session_id in self._sessions or self._name_holder(session_id) is not None:
            session_id = _new_session_id()
        session = Session(session_id, request, self.limits, self._nursery, self._changed)
        self._sessions[session_id] = session
        try:
            await self._nursery.start(session.serve, self._opener)
        except BaseException:
            del self._sessions[session_id]
            self._end_listeners.pop(session_id, None)
            raise
        return session.info()

    async def open_pooled(
        self, request: OpenRequest, *, room_wait_s: float = 0.0
    ) -> tuple[str, bool]:
        """An idle pooled session fit for ``request`` (see :meth:`free_session`), else a new
        one within the limits; the session's id, and whether it is new.

        At a session limit, the pool makes room as a cache would: the least recently used idle
        exec session is closed — the owner's own, or at the profile's limit anyone's in the
        profile (an exec session keeps nothing for its owner) — never a shell, an agent's
        stateful session, one attached, running something or just handed out for a run. With
        none idle, it waits up to ``room_wait_s`` for one (a fleet larger than the limit runs
        through it this way); then the limit's refusal stands.
        """
        deadline = trio.current_time() + room_wait_s
        while True:
            free = self.free_session(
                owner=request.owner,
                profile=request.profile,
                asset_id=request.asset_id,
                account=request.account,
                purpose=request.purpose,
            )
            if free is not None:
                self._session(free).pool_claimed_at = time.time()
                return free, False
            version = self.changes.version
            try:
                info = await self.open(request)
            except SessionLimitReached:
                idle = self._room_to_make(request)
                if idle is not None:
                    await self.kill(idle, by="the session limit (idle; another asset needed room)")
                    continue
                if trio.current_time() >= deadline:
                    raise
                with trio.move_on_at(deadline):
                    await self.changes.wait_past(version)
                continue
            return info.id, True  # spoken for from its creation (Session.pool_claimed_at)

    def _room_to_make(self, request: OpenRequest) -> str | None:
        """The idle exec session to close for ``request`` at a limit (None: none idle)."""
        mine = self._idle_exec(request.profile, request.owner)
        if mine is not None:
            return mine
        most = self.limits.max_per_profile
        if most is not None and self._open_count(profile=request.profile) >= most:
            return self._idle_exec(request.profile, None)
        return None

    def _idle_exec(self, profile: str, owner: str | None) -> str | None:
        now = time.time()
        idle = []
        for session in self._sessions.values():
            request = session.request
            if (
                session.state is SessionState.LIVE
                and not session.stopping
                and request.purpose == "exec"
                and request.profile == profile
                and (owner is None or request.owner == owner)
                and not _spoken_for(session, now)
            ):
                session.release_finished_run()
                if session.why_busy(watchers_ok=False) is None:
                    idle.append(session)
        return min(idle, key=lambda s: s.last_activity_at).id if idle else None

    def _open_count(self, *, profile: str | None = None, owner: str | None = None) -> int:
        """How many sessions of the profile (or owner) have not ended."""
        return sum(
            1
            for s in self._sessions.values()
            if not s.state.ended
            and (profile is None or s.request.profile == profile)
            and (owner is None or s.request.owner == owner)
        )

    def _check_limits(self, request: OpenRequest) -> None:
        per_profile = self._open_count(profile=request.profile)
        most = self.limits.max_per_profile
        if most is not None and per_profile >= most:
            raise SessionLimitReached(
                f"profile `{request.profile}` already has {per_profile} open sessions (the limit"
                f" is {most}) — close one with `jsctl kill`, or raise the limit"
            )
        most = self.limits.max_per_owner
        if most is None or request.owner in self.limits.unlimited_owners:
            return
        per_owner = self._open_count(owner=request.owner)
        if per_owner >= most:
            client = request.owner.partition("#")[0]  # an agent's owner id is NAME#ID
            raise SessionLimitReached(
                f"client `{client}` already has {per_owner} open sessions (the limit is {most})"
                " — close one with `jsctl kill`, or raise the limit"
            )

    def _name_holder(self, name: str) -> Session | None:
        return next((s for s in self._sessions.values() if s.name == name), None)

    def _claim_name(self, name: str, claimant: Session | None) -> None:
        if not _NAME.fullmatch(name):
            raise InvalidName(
                f"{quote_input(name)} cannot be a session name — use up to 64 letters, digits,"
                " `.`, `_`"
                " or `-`, starting with a letter or digit"
            )
        if name in self._sessions and self._sessions[name] is not claimant:
            raise NameTaken(name, name)
        holder = self._name_holder(name)
        if holder is None or holder is claimant:
            return
        if not holder.state.ended:
            raise NameTaken(name, holder.id)
        holder.name = None  # an ended session gives its name up to a new one

    def rename(self, ref: str, name: str | None) -> SessionInfo:
        """Give the session a new unique name, or none."""
        session = self._session(ref)
        if name is not None:
            self._claim_name(name, session)
        session.name = name
        self.changes.note()
        return session.info()

    async def kill(self, ref: str, *, by: str = "the user") -> SessionInfo:
        """End the session now and wait until its transport is closed."""
        return (await self.kill_many([ref], by=by))[0]

    async def kill_many(self, refs: Sequence[str], *, by: str = "the user") -> list[SessionInfo]:
        """End these sessions (all found before any is touched); they close side by side."""
        sessions = [self._session(ref) for ref in refs]
        for session in sessions:
            session.stop(f"killed by {by}")
        for session in sessions:
            await session.wait_done()
        return [session.info() for session in sessions]

    async def wait_ended(self, ref: str) -> SessionInfo:
        """Wait until the session has ended (and its transport is closed); its final state."""
        session = self._session(ref)
        await session.wait_done()
        return session.info()

    async def close_all(self, reason: str = "the daemon is shutting down") -> None:
        """End every session, giving transports a few seconds to close cleanly."""
        for session in list(self._sessions.values()):
            session.stop(reason)
        with trio.move_on_after(_SHUTDOWN_GRACE_S):
            for session in list(self._sessions.values()):
                await session.wait_done()
