"""Commands on sessions: start (once per request id), wait, read, interrupt."""

from __future__ import annotations

import math

import trio

from jsctl_protocol import quote_input

from ._errors import SessionBusy, SessionError, UnknownRun
from ._model import RunInfo
from ._prompts import classify
from ._registry import DEFAULT_READ_BYTES, SessionRegistry
from ._ring import ReadResult
from ._run import Run
from ._session import Session

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


class RunControl(SessionRegistry):
    """Runs on the registry's sessions."""

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
                        await run.wait_finished()  # one wake-up, not one per output chunk
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
