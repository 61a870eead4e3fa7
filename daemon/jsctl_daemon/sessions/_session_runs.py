"""A session's runs: typing a command line, its time limit and Ctrl-C recovery, and whether a
command may be typed into the session now (a mixin of :class:`~._session.Session`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from ..terminal import TerminalEnded, TerminalTransport
from ._busy import TerminalUse
from ._errors import SessionEnded
from ._model import AttachmentInfo, OpenRequest, SessionLimits, SessionState
from ._ring import RingBuffer
from ._run import CTRL_C, Run

logger = logging.getLogger(__name__)

_TYPED_CHUNK = 32 << 10  # keystrokes a frame when a run types a lot (its standard input)


class SessionRuns:
    """Runs of one session; the session supplies its ring, transport and state."""

    __slots__ = ("_run_seq", "current_run", "exiting")  # what it sets; the session the rest

    id: str
    request: OpenRequest
    limits: SessionLimits
    state: SessionState
    ring: RingBuffer
    runs: list[Run]
    current_run: Run | None
    use: TerminalUse
    guard_token: str | None
    exiting: bool
    _run_seq: int
    _helpers: trio.Nursery | None
    _attachments: dict[int, AttachmentInfo]
    _on_change: Callable[[str], None]  # told the session's id

    if TYPE_CHECKING:

        @property
        def connecting(self) -> bool: ...

        def _require_writable(self) -> TerminalTransport: ...

        async def _send(self, data: bytes) -> None: ...

        async def send_input(self, data: bytes) -> None: ...

        def stop(self, reason: str) -> None: ...

        def _notify(self) -> None: ...

    def new_run(
        self,
        owner: str,
        command: str,
        request_id: str | None,
        *,
        stdin_from_terminal: bool,
        stdin: bytes | None = None,
        keep_state: bool = False,
        stderr_apart: bool = False,
    ) -> Run:
        """Create the session's current run; the caller checked it is not busy, then types it."""
        self._require_writable()
        self.use.on_run()
        self._run_seq += 1
        run = Run(
            f"{self.id}-{self._run_seq}",
            self.id,
            owner,
            command,
            request_id,
            self.ring.end_offset,
            stdin_from_terminal=stdin_from_terminal,
            stdin=stdin,
            start_warning_s=self.limits.start_warning_s,
            keep_state=keep_state,
            stderr_apart=stderr_apart,
            guard_token=self.guard_token,
        )
        self.runs.append(run)
        self.current_run = run
        self._on_change(self.id)
        return run

    async def type_run(self, run: Run, time_limit_s: float | None) -> None:
        """Type the run's line now, in the caller's task (no hand-off before the keys leave).

        A task watches the run only when it has a time limit (or, later, is interrupted).
        """
        await self._guard_run(run, self._type_line(run, time_limit_s))

    async def _type_line(self, run: Run, time_limit_s: float | None) -> None:
        # Shielded: a caller that goes away mid-write must not leave half a line typed.
        line = run.typed_line()
        with trio.CancelScope(shield=True):
            for start in range(0, len(line), _TYPED_CHUNK):  # stdin makes for long input
                await self._send(line[start : start + _TYPED_CHUNK])
        if time_limit_s is not None:
            self._supervise(self._time_run, run, time_limit_s)

    def _supervise(self, task: Callable[..., Awaitable[None]], *args: object) -> None:
        if self._helpers is not None:  # they end by themselves once the run has finished
            self._helpers.start_soon(task, *args)

    async def _time_run(self, run: Run, time_limit_s: float) -> None:
        await self._guard_run(run, self._enforce_time_limit(run, time_limit_s))

    async def _enforce_time_limit(self, run: Run, time_limit_s: float) -> None:
        if await run.enforce_time_limit(self._send, self._end_offset, time_limit_s):
            await self._recover(run)

    async def _recover_run(self, run: Run) -> None:
        await self._guard_run(run, self._recover(run))

    async def _recover(self, run: Run) -> None:
        await run.recover(
            self._send,
            self._end_offset,
            interrupt_grace_s=self.limits.interrupt_grace_s,
            probe_timeout_s=self.limits.probe_timeout_s,
        )

    def _end_offset(self) -> int:
        return self.ring.end_offset

    async def _guard_run(self, run: Run, step: Awaitable[None]) -> None:
        """Await one step of a run; a terminal that fails under it makes the run lost."""
        try:
            await step
        except SessionEnded:
            pass  # the pump marks the run lost with the session's reason
        except (TerminalEnded, trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            run.lose(self.ring.end_offset, f"could not type into the terminal: {exc}")
        except Exception as exc:  # a helper's bug ends this run, never the manager's nursery
            logger.exception("session %s: run %s failed", self.id, run.id)
            run.lose(self.ring.end_offset, f"internal error ({type(exc).__name__})")
        finally:
            self.release_finished_run()
            self._notify()

    def release_finished_run(self) -> None:
        """Forget the current run once it has finished (its driver task may still be ending)."""
        run = self.current_run
        if run is not None and run.state.finished:
            self.current_run = None
            self._on_change(self.id)
            if run.shell_ended and self.guard_token is None:
                self.exiting = True  # never type into a shell on its way out
            if run.unanswered:
                if self.request.purpose == "exec":  # exec's own: nobody needs what holds it
                    self.stop("closed by exec: a program held the terminal after Ctrl-C")
                else:
                    self.use.unresponsive = True

    def why_busy(self, *, watchers_ok: bool) -> str | None:
        """Why a command must not be typed into this session now, or None if it may."""
        if self.state.ended:
            return None  # starting a run says that it ended
        run = self.current_run
        if run is not None and not run.state.finished:
            shown = run.command if len(run.command) <= 60 else run.command[:57] + "..."
            return f"it is running `{shown}` (run {run.id})"
        if self.exiting:
            return "its shell is exiting"
        if self.connecting:
            return (
                "KoKo asks for the account's secret before it connects to the asset (a person "
                f"answers it with `jsctl secret {self.id}`)"
            )
        for attachment in self._attachments.values():
            if not (watchers_ok and attachment.read_only):
                return f"{attachment.client} is attached to it"
        ring = self.ring
        tail = ring.read_from(max(ring.start_offset, ring.end_offset - 512), 512).data
        since_typed = None
        if self.use.typed_since_run and self.use.typed_offset >= ring.start_offset:
            since_typed = ring.read_from(self.use.typed_offset, 1 << 16).data
        return self.use.why_busy(tail, since_typed)

    def note_typed(self, data: bytes) -> None:
        """A client (a person, an agent's `input`) typed into the session."""
        self.use.on_typed(data, self.ring.end_offset)

    async def interrupt(self) -> Run | None:
        """Send Ctrl-C; a current run is then recovered with a probe. Returns that run."""
        run = self.current_run
        await self.send_input(CTRL_C)
        return run

    def forget_old_runs(self) -> list[Run]:
        """Drop the oldest finished runs beyond the limit; returns what was dropped."""
        dropped: list[Run] = []
        while len(self.runs) > self.limits.keep_runs:
            if not self.runs[0].state.finished:
                break
            dropped.append(self.runs.pop(0))
        return dropped
