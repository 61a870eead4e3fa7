"""One exec run on a session: its markers, state, output range and the task that drives it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import trio

from ._lines import exec_line, probe_line
from ._markers import Marker, MarkerKind, MarkerScanner, new_token
from ._model import RunInfo, RunState

CTRL_C = b"\x03"


class Run:
    """A command running (or run) on a session, located by offsets in the session's output.

    Slotted: a session keeps up to ``keep_runs`` finished runs (an instance dict of this size
    would be ~1.5 KiB each); what only a running command needs is dropped when it finishes.
    """

    __slots__ = (
        "_finished",
        "_guard_token",
        "_probe_tokens",
        "_scanner",
        "_start_warning_s",
        "_stdin",
        "_stop_offset",
        "command",
        "end_offset",
        "ended_at",
        "exit_status",
        "id",
        "keep_state",
        "note",
        "owner",
        "prompt",
        "prompt_kind",
        "request_id",
        "sent_offset",
        "session_id",
        "shell_ended",
        "start_offset",
        "started_at",
        "state",
        "stderr_apart",
        "stderr_end",
        "stderr_start",
        "stdin_from_terminal",
        "stdout_end",
        "stopping",
        "token",
        "unanswered",
    )

    def __init__(
        self,
        run_id: str,
        session_id: str,
        owner: str,
        command: str,
        request_id: str | None,
        sent_offset: int,
        *,
        stdin_from_terminal: bool,
        stdin: bytes | None = None,
        start_warning_s: float = 10.0,
        keep_state: bool = False,
        stderr_apart: bool = False,
        guard_token: str | None = None,
    ) -> None:
        self.id = run_id
        self.session_id = session_id
        self.owner = owner
        self.command = command
        self.request_id = request_id
        self.stdin_from_terminal = stdin_from_terminal
        self._stdin = stdin  # typed ahead of the command, then forgotten
        self._start_warning_s = start_warning_s
        self.keep_state = keep_state
        self.stderr_apart = stderr_apart and not keep_state
        self._guard_token = guard_token  # the session's guard loop (agents' sessions), if any
        self.shell_ended = False  # the command ended the shell it ran in (keep_state runs)
        self.stdout_end: int | None = None  # where standard error starts (stderr_apart runs)
        self.stderr_start: int | None = None
        self.stderr_end: int | None = None  # set when a probe printed it (after Ctrl-C)
        self.prompt: str | None = None  # what the command seems to wait for, while it waits
        self.prompt_kind: str | None = None
        self.token = new_token()
        self.sent_offset = sent_offset
        self.state = RunState.RUNNING
        self.exit_status: int | None = None
        self.start_offset: int | None = None
        self.end_offset: int | None = None
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.note: str | None = None
        self.stopping: RunState | None = None  # TIMEOUT or INTERRUPTED once Ctrl-C is on its way
        self._scanner: MarkerScanner | None = MarkerScanner(sent_offset)  # None once finished
        self._probe_tokens: set[str] | None = None  # the probes sent after Ctrl-C, if any
        # Where Ctrl-C went in: later output (the ^C echo, a new prompt) is not the command's.
        self._stop_offset: int | None = None
        self.unanswered = False  # Ctrl-C and probes went unanswered: a program holds the tty
        self._finished: trio.Event | None = None  # made by the first wait_finished()

    @property
    def readable_end(self) -> int:
        """Output is final up to here; a tail that may be the start of a marker is held back.

        For a run with standard error apart, this is the end of its standard output.
        """
        if self.end_offset is not None:
            return self.stdout_end if self.stdout_end is not None else self.end_offset
        if self.start_offset is None or self._scanner is None:
            return self.sent_offset
        end = self._scanner.safe_end
        if self._stop_offset is not None:
            end = min(end, self._stop_offset)
        if self.stdout_end is not None:
            end = min(end, self.stdout_end)
        return max(self.start_offset, end)

    @property
    def stdout_limit(self) -> int | None:
        """One past the last byte of standard output, once known (the run finished)."""
        if self.end_offset is None:
            return None
        return self.stdout_end if self.stdout_end is not None else self.end_offset

    @property
    def stderr_range(self) -> tuple[int, int] | None:
        """The bytes of standard error printed after the command, once the run finished."""
        if self.end_offset is None or self.stderr_start is None:
            return None
        end = self.stderr_end if self.stderr_end is not None else self.end_offset
        return self.stderr_start, max(self.stderr_start, end)

    @property
    def output_offset(self) -> int:
        """Where a reader should start reading this run's output."""
        return self.start_offset if self.start_offset is not None else self.sent_offset

    def info(self) -> RunInfo:
        """A snapshot for callers."""
        return RunInfo(
            id=self.id,
            session_id=self.session_id,
            owner=self.owner,
            command=self.command,
            request_id=self.request_id,
            state=self.state,
            exit_status=self.exit_status,
            output_offset=self.output_offset,
            start_offset=self.start_offset,
            end_offset=self.end_offset,
            readable_end=self.readable_end,
            started_at=self.started_at,
            ended_at=self.ended_at,
            note=self.note or self.waiting_note(),
            stderr_range=self.stderr_range,
            prompt=self.prompt if not self.state.finished else None,
            prompt_kind=self.prompt_kind if not self.state.finished else None,
            shell_ended=self.shell_ended,
        )

    def on_output(self, chunk: bytes, offset: int) -> None:
        """Scan new session output (starting at ``offset``) for this run's markers."""
        if self.state.finished:
            return
        if self.prompt is not None:
            self.prompt = self.prompt_kind = None  # output again: it no longer waits
        assert self._scanner is not None  # dropped only once finished
        for marker in self._scanner.feed(chunk, offset):
            self._on_marker(marker)
            if self.state.finished:
                return

    def _on_marker(self, marker: Marker) -> None:
        if marker.kind is MarkerKind.BEGIN and marker.token == self.token:
            if self.start_offset is None:
                self.start_offset = marker.end
        elif marker.kind is MarkerKind.END and marker.token == self.token:
            if self.start_offset is None:
                self.start_offset = marker.start
            self.finish(self.stopping or RunState.DONE, marker.status, marker.start)
        elif marker.kind is MarkerKind.STDERR and marker.token == self.token:
            if self.stdout_end is None:
                self.stdout_end, self.stderr_start = marker.start, marker.end
                if self._stop_offset is not None:  # printed by a probe after Ctrl-C
                    self.stdout_end = min(marker.start, self._stop_offset)
        elif marker.kind is MarkerKind.QUIT and marker.token == self.token:
            self._shell_ended(marker, "exited")
        elif (
            marker.kind is MarkerKind.REPLACED
            and marker.token == self._guard_token
            and self.start_offset is not None  # else it is the previous run's shell ending
        ):
            self._shell_ended(marker, "ended (the command replaced it or it exited)")
        elif marker.kind is MarkerKind.PROBE and marker.token in (self._probe_tokens or ()):
            if self.stderr_start is not None and self.stderr_start > (self._stop_offset or 0):
                self.stderr_end = marker.start  # the stderr the probe printed
            end = self._stop_offset if self._stop_offset is not None else marker.start
            note = "Ctrl-C was sent and the shell answered a probe: it is ready for commands"
            self.finish(self.stopping or RunState.INTERRUPTED, marker.status, end, note)

    def _shell_ended(self, marker: Marker, how: str) -> None:
        if self.start_offset is None:
            self.start_offset = marker.start
        self.shell_ended = True
        status = "" if marker.status is None else f" with status {marker.status}"
        if self._guard_token is not None:
            note = (
                f"the shell {how}{status}; a new shell was started in this session, so its"
                " working directory and variables were reset"
            )
        else:
            note = f"the shell {how}{status} and this session ends with it"
        end = self._stop_offset if self._stop_offset is not None else marker.start
        self.finish(self.stopping or RunState.DONE, marker.status, end, note)

    def expect_probe(self, token: str) -> None:
        """A probe line with ``token`` is about to be sent."""
        if self._probe_tokens is None:
            self._probe_tokens = set()
        self._probe_tokens.add(token)

    def request_stop(self, why: RunState, offset: int) -> bool:
        """Ctrl-C goes in at ``offset``; False if the run already finished or is stopping."""
        if self.state.finished or self.stopping is not None:
            return False
        self.stopping = why
        self._stop_offset = offset
        return True

    def finish(
        self, state: RunState, exit_status: int | None, end_offset: int, note: str | None = None
    ) -> None:
        """Make the run final (idempotent: the first call wins)."""
        if self.state.finished:
            return
        start = self.start_offset if self.start_offset is not None else end_offset
        self.start_offset = min(start, end_offset)
        self.end_offset = end_offset
        self.state = state
        self.exit_status = exit_status
        self.note = note
        self.ended_at = time.time()
        # What only a running command needs goes; its offsets and status answer from now on.
        self._scanner = self._probe_tokens = self._stdin = None
        if self._finished is not None:  # its waiters hold it; later ones see the state
            self._finished.set()
            self._finished = None

    async def wait_finished(self) -> None:
        """Return once the run is final."""
        if self.state.finished:
            return
        if self._finished is None:
            self._finished = trio.Event()
        await self._finished.wait()

    def lose(self, end_offset: int, reason: str | None) -> None:
        """The session ended under the run: release held-back bytes and mark it lost."""
        if self.state.finished:
            return
        if self._scanner is not None:
            self._scanner.flush()
        self.finish(RunState.LOST, None, end_offset, reason or "the session ended")

    def typed_line(self) -> bytes:
        """The keystrokes that start this run (its command between BEGIN and END markers)."""
        stdin, self._stdin = self._stdin, None
        return exec_line(
            self.command,
            self.token,
            stdin_from_terminal=self.stdin_from_terminal,
            stdin=stdin,
            keep_state=self.keep_state,
            stderr_apart=self.stderr_apart,
        )

    def waiting_note(self) -> str | None:
        """A warning once the shell has left the typed command unstarted for too long."""
        start_warning_s = self._start_warning_s
        if (
            self.start_offset is None
            and self.stopping is None
            and not self.state.finished
            and time.time() - self.started_at >= start_warning_s
        ):
            return (
                f"the shell has not started the command after {start_warning_s:g} s; a program"
                " may hold the terminal — look at the screen, interrupt, or wait"
            )
        return None

    async def enforce_time_limit(
        self,
        send: Callable[[bytes], Awaitable[None]],
        current_offset: Callable[[], int],
        time_limit_s: float,
    ) -> bool:
        """Wait out the time limit; past it send Ctrl-C. True if this call asked the run to stop.

        The caller then recovers the shell with :meth:`recover` (as after any other Ctrl-C).
        """
        with trio.move_on_after(time_limit_s):
            await self.wait_finished()
        if self.state.finished or not self.request_stop(RunState.TIMEOUT, current_offset()):
            return False
        await send(CTRL_C)
        return True

    async def recover(
        self,
        send: Callable[[bytes], Awaitable[None]],
        current_offset: Callable[[], int],
        *,
        interrupt_grace_s: float,
        probe_timeout_s: float,
    ) -> None:
        """After Ctrl-C: let the command end by itself, else probe until the shell answers."""
        # The command may end by itself after Ctrl-C (a trap) and print its END marker.
        with trio.move_on_after(interrupt_grace_s):
            await self.wait_finished()
        # A Ctrl-C that lands while the shell is starting a job can be lost; the first probe
        # is therefore short, and each unanswered probe is followed by another Ctrl-C.
        for patience in (min(1.0, probe_timeout_s), probe_timeout_s, probe_timeout_s):
            if self.state.finished:
                return
            token = new_token()
            self.expect_probe(token)
            await send(probe_line(token, stderr_of=self.token if self.stderr_apart else None))
            with trio.move_on_after(patience):
                await self.wait_finished()
            if not self.state.finished:
                await send(CTRL_C)
        if not self.state.finished:
            self.unanswered = True
            self.finish(
                self.stopping or RunState.TIMEOUT,
                None,
                self._stop_offset if self._stop_offset is not None else current_offset(),
                "Ctrl-C was sent but the shell did not answer; it may be running a full-screen"
                " or input-reading program — look at the screen, then interrupt or kill the"
                " session",
            )
