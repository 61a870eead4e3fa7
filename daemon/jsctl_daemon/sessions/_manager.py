"""The daemon's sessions API: open, find, list, read, type, exec, screen, kill, shut down."""

from __future__ import annotations

import base64
import math
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager

import trio

from jsctl_protocol import quote_input

from ._errors import (
    InvalidName,
    InvalidOffset,
    NameTaken,
    SessionBusy,
    SessionError,
    SessionLimitReached,
    UnknownRun,
    UnknownSession,
)
from ._model import (
    AttachmentInfo,
    ExecResult,
    OpenRequest,
    RunInfo,
    ScreenSnapshot,
    SessionInfo,
    SessionLimits,
    SessionListing,
    SessionState,
)
from ._prompts import classify
from ._ring import ReadResult
from ._run import Run
from ._session import Opener, Session

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SHUTDOWN_GRACE_S = 5.0
DEFAULT_READ_BYTES = 64 << 10
PROMPT_QUIET_S = 1.0  # output paused this long at a prompt-like line: the run waits for input
_PROMPT_TAIL = 512


def _notice_prompt(session: Session, run: Run) -> bool:
    """Whether the run waits at a prompt now (noting what it is on the run)."""
    if run.prompt is not None:
        return True
    if run.start_offset is None or trio.current_time() - session.last_output_at < PROMPT_QUIET_S:
        return False
    end = session.ring.end_offset
    start = max(run.start_offset, session.ring.start_offset, end - _PROMPT_TAIL)
    found = classify(session.ring.read_from(start, _PROMPT_TAIL).data)
    if found is not None:
        run.prompt, run.prompt_kind = found.text, found.kind
    return found is not None


async def _last_lines(session: Session, count: int = 4) -> tuple[str, ...]:
    """The last non-blank lines of the session's screen, for a refusal to show."""
    try:
        lines = [line.rstrip() for line in (await session.screen()).lines]
    except Exception:  # the screen is a courtesy here; the refusal stands without it
        return ()
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines[-count:])


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


class SessionManager:
    """Owns every session (one task each in its nursery) and the runs on them."""

    def __init__(self, nursery: trio.Nursery, opener: Opener, limits: SessionLimits) -> None:
        self._nursery = nursery
        self._opener = opener
        self.limits = limits
        self._sessions: dict[str, Session] = {}
        self._requests: dict[tuple[str, str], str] = {}  # (owner, request id) -> run id
        self._attachment_seq = 0

    # -- finding sessions -------------------------------------------------------------------

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
        run = session.runs.get(run_id) if session is not None else None
        if run is None:
            raise UnknownRun(run_id)
        return run

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
        or held by a program is skipped. The most recently used wins.
        """
        free = []
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
        if not free:
            return None
        return max(free, key=lambda s: s.last_activity_at).id

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
        session = Session(session_id, request, self.limits, self._nursery)
        self._sessions[session_id] = session
        try:
            await self._nursery.start(session.serve, self._opener)
        except BaseException:
            del self._sessions[session_id]
            raise
        return session.info()

    def _check_limits(self, request: OpenRequest) -> None:
        live = [s for s in self._sessions.values() if not s.state.ended]
        per_profile = sum(1 for s in live if s.request.profile == request.profile)
        most = self.limits.max_per_profile
        if most is not None and per_profile >= most:
            raise SessionLimitReached(
                f"profile `{request.profile}` already has {per_profile} open sessions (the limit"
                f" is {most}) — close one with `jsctl kill`, or raise the limit"
            )
        most = self.limits.max_per_owner
        if most is None or request.owner in self.limits.unlimited_owners:
            return
        per_owner = sum(1 for s in live if s.request.owner == request.owner)
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
            await session.done.wait()
        return [session.info() for session in sessions]

    async def wait_ended(self, ref: str) -> SessionInfo:
        """Wait until the session has ended (and its transport is closed); its final state."""
        session = self._session(ref)
        await session.done.wait()
        return session.info()

    async def close_all(self, reason: str = "the daemon is shutting down") -> None:
        """End every session, giving transports a few seconds to close cleanly."""
        for session in list(self._sessions.values()):
            session.stop(reason)
        with trio.move_on_after(_SHUTDOWN_GRACE_S):
            for session in list(self._sessions.values()):
                await session.done.wait()

    def _forget_old_sessions(self) -> None:
        ended = sorted(
            (s for s in self._sessions.values() if s.state.ended and s.done.is_set()),
            key=lambda s: s.ended_at or 0.0,
        )
        for session in ended[: max(0, len(ended) - self.limits.keep_ended)]:
            del self._sessions[session.id]
            self._forget_requests(session.runs.values())

    def _forget_requests(self, runs: Iterable[Run]) -> None:
        for run in runs:
            if run.request_id is not None:
                self._requests.pop((run.owner, run.request_id), None)

    # -- attachments, input, output ---------------------------------------------------------

    def attach(self, ref: str, client: str, *, read_only: bool) -> AttachmentInfo:
        """Record a client attaching; read-only is enforced on the attachment's writes."""
        self._attachment_seq += 1
        return self._session(ref).attach(self._attachment_seq, client, read_only)

    def detach(self, ref: str, attachment_id: int) -> None:
        """Record a client detaching; the session keeps running."""
        self._session(ref).detach(attachment_id)

    async def write_input(self, ref: str, data: bytes, *, attachment_id: int | None = None) -> None:
        """Type bytes into the session (refused for a read-only attachment)."""
        session = self._session(ref)
        if attachment_id is not None:
            attachment = session.attachment(attachment_id)
            if attachment is not None and attachment.read_only:
                raise SessionError(
                    f"this attachment to session `{session.id}` is read-only — attach without"
                    " --read-only to type"
                )
        session.require_writable()  # refused input (ended, paused) was never typed
        session.note_typed(data)
        await session.send_input(data)

    def add_output_filter(self, ref: str, output_filter: Callable[[bytes], bytes]) -> None:
        """Pass the session's output through ``output_filter`` (before older filters)."""
        self._session(ref).output_filters.insert(0, output_filter)

    async def resize(self, ref: str, cols: int, rows: int) -> SessionInfo:
        """Change the terminal's size."""
        session = self._session(ref)
        await session.resize(cols, rows)
        return session.info()

    def read_from(self, ref: str, offset: int, max_bytes: int = DEFAULT_READ_BYTES) -> ReadResult:
        """Output from ``offset``; ``missed`` counts bytes that fell out of the buffer."""
        session = self._session(ref)
        try:
            result = session.ring.read_from(offset, max_bytes)
        except ValueError as exc:
            raise InvalidOffset(
                f"{exc} of session `{session.id}` — read from {session.ring.end_offset} or less"
            ) from exc
        session.touch()
        return result

    async def wait_for_output(self, ref: str, offset: int, max_wait_s: float) -> SessionInfo:
        """Wait until output exists past ``offset``, the session ends, or ``max_wait_s`` pass."""
        session = self._session(ref)
        with trio.move_on_after(max_wait_s):
            while session.ring.end_offset <= offset and not session.state.ended:
                await session.wait_for_change()
        return session.info()

    async def screen(self, ref: str) -> ScreenSnapshot:
        """What a person would see on the terminal now."""
        return await self._session(ref).screen()

    # -- runs -------------------------------------------------------------------------------

    async def start_run(
        self,
        ref: str,
        command: str,
        *,
        owner: str,
        request_id: str | None = None,
        time_limit_s: float | None = None,
        stdin_from_terminal: bool = False,
        stdin: bytes | None = None,
        keep_state: bool = False,
        stderr_apart: bool = False,
    ) -> RunInfo:
        """Start one command; the same (owner, request id) returns the same run, never a rerun.

        The command is typed only into a shell idle at its prompt (see ``Session.why_busy``);
        otherwise :class:`SessionBusy` says what the session is doing and nothing is typed.
        """
        session = self._session(ref)
        if request_id is not None:
            known = self._requests.get((owner, request_id))
            if known is not None:
                try:
                    run = self._run(known)
                except UnknownRun:
                    del self._requests[(owner, request_id)]
                else:
                    if run.command != command:
                        raise SessionError(
                            f"request id {quote_input(request_id)} was already used for run"
                            f" `{run.id}` with"
                            " a different command — use a new request id"
                        )
                    return run.info()
        session.release_finished_run()
        doing = session.why_busy(watchers_ok=keep_state)
        if doing is not None:
            current = session.current_run
            lines = () if current is not None else await _last_lines(session)
            raise SessionBusy(session.id, doing, lines, current.id if current else "")
        run = session.new_run(
            owner,
            command,
            request_id,
            stdin_from_terminal=stdin_from_terminal,
            stdin=stdin,
            keep_state=keep_state,
            stderr_apart=stderr_apart,
        )
        if request_id is not None:
            self._requests[(owner, request_id)] = run.id
        self._forget_requests(session.forget_old_runs())
        await session.type_run(run, time_limit_s)
        return run.info()

    def get_run(self, run_id: str) -> RunInfo:
        """The run's current state."""
        return self._run(run_id).info()

    async def wait_run(
        self,
        run_id: str,
        max_wait_s: float,
        *,
        offset: int | None = None,
        prompts: bool = False,
        known_prompt: str | None = None,
    ) -> RunInfo:
        """Wait (at most ``max_wait_s``) until the run finishes or, given ``offset``, passes it.

        With ``prompts`` it also returns once the run stops at something that looks like a
        prompt (other than ``known_prompt``): output paused for ``PROMPT_QUIET_S`` and its last
        line reads like one (see _prompts); the run's ``prompt`` then says what it waits for.
        """
        run = self._run(run_id)
        session = self._session(run.session_id)
        with trio.move_on_after(max_wait_s):
            while not run.state.finished:
                # Output exists past `offset` only once the command started and printed some.
                if offset is not None and run.readable_end > max(offset, run.output_offset):
                    break
                if prompts and _notice_prompt(session, run) and run.prompt != known_prompt:
                    break
                deadline = math.inf
                if prompts and run.prompt is None:
                    deadline = session.last_output_at + PROMPT_QUIET_S
                with trio.move_on_at(deadline):
                    if offset is None:
                        await run.finished.wait()  # one wake-up, not one per output chunk
                    else:
                        await session.wait_for_change()
        return run.info()

    def read_run_stderr(self, run_id: str, max_bytes: int = 1 << 20) -> ReadResult:
        """A finished child-shell run's standard error (empty for other runs)."""
        run = self._run(run_id)
        span = run.stderr_range
        if span is None:
            return ReadResult(b"", run.end_offset or 0, 0)
        session = self._session(run.session_id)
        return session.ring.read_from(span[0], max_bytes, limit=span[1])

    def read_run(
        self, run_id: str, offset: int | None = None, max_bytes: int = DEFAULT_READ_BYTES
    ) -> ReadResult:
        """The run's output from ``offset`` (default: its start), never its echo or markers."""
        run = self._run(run_id)
        session = self._session(run.session_id)
        start = run.output_offset
        offset = start if offset is None else max(offset, start)
        limit = run.readable_end
        if offset >= limit:
            return ReadResult(b"", offset, 0)
        return session.ring.read_from(offset, max_bytes, limit=limit)

    async def exec(
        self,
        ref: str,
        command: str,
        *,
        owner: str,
        request_id: str | None = None,
        time_limit_s: float | None = None,
        max_wait_s: float | None = None,
        max_bytes: int = DEFAULT_READ_BYTES,
        stdin_from_terminal: bool = False,
        stdin: bytes | None = None,
        keep_state: bool = False,
        stderr_apart: bool = False,
    ) -> ExecResult:
        """Run a command; wait up to ``max_wait_s`` (default: until it ends) for its status.

        ``time_limit_s`` bounds the command itself (then Ctrl-C); ``max_wait_s`` only bounds this
        call: the run goes on, and the caller follows it with ``wait_run``/``read_run``.
        """
        started = await self.start_run(
            ref,
            command,
            owner=owner,
            request_id=request_id,
            time_limit_s=time_limit_s,
            stdin_from_terminal=stdin_from_terminal,
            stdin=stdin,
            keep_state=keep_state,
            stderr_apart=stderr_apart,
        )
        run = await self.wait_run(started.id, math.inf if max_wait_s is None else max_wait_s)
        return ExecResult(run, self.read_run(run.id, None, max_bytes))

    async def interrupt(self, ref: str) -> RunInfo | None:
        """Send Ctrl-C to the session; returns the run it interrupts, if any."""
        run = await self._session(ref).interrupt()
        return run.info() if run is not None else None

    async def interrupt_run(self, run_id: str) -> RunInfo:
        """Send Ctrl-C to a running run (no-op once it finished)."""
        run = self._run(run_id)
        session = self._session(run.session_id)
        if not run.state.finished and session.current_run is run:
            await session.interrupt()
        return run.info()
