"""One terminal session: its transport pump, output ring buffer, waiters and attachments (its
runs: :mod:`._session_runs`)."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import trio

from ..terminal import TerminalClosed, TerminalEnded, TerminalLost, TerminalTransport
from ._busy import TerminalUse
from ._errors import SessionEnded, SessionNotReady, SessionPaused
from ._lines import exec_setup_line, guard_line
from ._markers import new_token
from ._model import (
    SERVER_IDLE_KEY,
    AttachmentInfo,
    OpenRequest,
    RunState,
    ScreenSnapshot,
    SessionInfo,
    SessionLimits,
    SessionState,
)
from ._recording import AsciicastRecorder
from ._ring import RingBuffer
from ._run import CTRL_C, Run
from ._screen import LazyScreen
from ._session_runs import SessionRuns

logger = logging.getLogger(__name__)

Opener = Callable[[OpenRequest], AbstractAsyncContextManager[TerminalTransport]]


def _unwatched(_session_id: str) -> None:
    pass


class Session(SessionRuns):
    """A live terminal owned by the daemon: clients attach, read by offset, type, run commands.

    Slotted, and its waiting places made on first use: hundreds of idle sessions each pay for
    every attribute and trio primitive here (an instance dict of this size is ~1.5 KiB).
    """

    __slots__ = (
        "_attachments",
        "_done",
        "_helpers",
        "_on_change",
        "_pump_scope",
        "_recorder",
        "_screen",
        "_served",
        "_stop_reason",
        "_transport",
        "_waiters",
        "cols",
        "created_at",
        "ended_at",
        "exit_status",
        "guard_token",
        "id",
        "last_activity_at",
        "last_output_at",
        "limits",
        "name",
        "output_filters",
        "pool_claimed_at",
        "reason",
        "request",
        "ring",
        "rows",
        "runs",
        "server_active_at",
        "state",
        "use",
    )

    def __init__(
        self,
        session_id: str,
        request: OpenRequest,
        limits: SessionLimits,
        helpers: trio.Nursery | None = None,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.id = session_id
        self.name = request.name
        self.request = request
        self.limits = limits
        self.state = SessionState.STARTING
        self.reason: str | None = None
        self.exit_status: int | None = None
        self.created_at = time.time()
        self.last_activity_at = self.created_at
        # When the session was last handed out (time.time()): its opener's, then the exec pool's
        # when it reuses it; until a run starts on it, it is spoken for, not idle, and is never
        # closed to make room (see SessionManager.open_pooled).
        self.pool_claimed_at = self.created_at
        self.server_active_at = self.created_at  # KoKo's idle clock: input, output, resize
        self.ended_at: float | None = None
        self.ring = RingBuffer(limits.buffer_bytes)
        self.cols, self.rows = request.cols, request.rows
        self.runs: list[Run] = []  # oldest first (a list: a dict's table is ~0.2 KiB for one)
        self.current_run: Run | None = None
        self._run_seq = 0
        self._attachments: dict[int, AttachmentInfo] = {}
        self._waiters: trio.lowlevel.ParkingLot | None = None  # made by the first waiter
        self._transport: TerminalTransport | None = None  # it serialises concurrent sends
        self._pump_scope = trio.CancelScope()  # kill and the idle limit cancel this
        self._stop_reason: str | None = None
        self._helpers = helpers  # where a run's time limit and Ctrl-C recovery tasks run
        # Told when the session goes live or ends and when a run starts or finishes (the
        # session index follows these), never per output chunk.
        self._on_change = on_change or _unwatched
        self._screen = LazyScreen(request.cols, request.rows, limits.screen_catchup_bytes)
        self._recorder: AsciicastRecorder | None = None
        self.use = TerminalUse()
        self.last_output_at = trio.current_time()
        # Agents' sessions run their shell under a guard loop (see _lines); exec's need none.
        self.guard_token = new_token() if request.purpose == "agent" else None
        self.exiting = False  # a run made the shell exit and nothing restarts it
        self._served = False  # the session's task has finished (its transport is closed)
        self._done: trio.Event | None = None  # made by the first wait_done()
        # Applied to output before anything keeps it (ring, screen, recording, runs).
        self.output_filters: list[Callable[[bytes], bytes]] = []

    # -- snapshots and waiting -------------------------------------------------------------

    def info(self) -> SessionInfo:
        """A snapshot for listings and replies."""
        return SessionInfo(
            id=self.id,
            name=self.name,
            owner=self.request.owner,
            profile=self.request.profile,
            asset=self.request.asset,
            asset_id=self.request.asset_id,
            account=self.request.account,
            state=self.state,
            reason=self.reason,
            exit_status=self.exit_status,
            created_at=self.created_at,
            last_activity_at=self.last_activity_at,
            cols=self.cols,
            rows=self.rows,
            start_offset=self.ring.start_offset,
            end_offset=self.ring.end_offset,
            buffer_bytes=self.ring.capacity,
            attachments=tuple(self._attachments.values()),
            current_run=self.current_run.id
            if self.current_run and not self.current_run.state.finished
            else None,
            idle_timeout_s=self.limits.idle_timeout_s,
            recording=str(self._recorder.path) if self._recorder else None,
            transport_info=self._transport.info if self._transport is not None else {},
            purpose=self.request.purpose,
            server_idle_timeout_s=self._server_idle_timeout_s(),
            server_active_at=self.server_active_at,
            server_idle_warning_s=self.limits.server_idle_warning_s,
            server_idle_known=self._transport is not None
            and SERVER_IDLE_KEY in self._transport.info,
        )

    def _server_idle_timeout_s(self) -> float | None:
        """KoKo's idle limit: read from the server by the opener when it could, else assumed."""
        if self._transport is not None:
            told = self._transport.info.get(SERVER_IDLE_KEY)
            if isinstance(told, int | float):
                return float(told)
        return self.limits.server_idle_timeout_s

    def _notify(self) -> None:
        if self._waiters is not None:  # nobody waits on most sessions, at most output chunks
            self._waiters.unpark_all()

    async def wait_for_change(self) -> None:
        """Return at the next new output, state change or run change."""
        if self._waiters is None:
            self._waiters = trio.lowlevel.ParkingLot()
        await self._waiters.park()

    @property
    def done(self) -> bool:
        """The session's task has finished: it ended and its transport is closed."""
        return self._served

    async def wait_done(self) -> None:
        """Return once the session's task has finished."""
        if self._served:
            return
        if self._done is None:
            self._done = trio.Event()
        await self._done.wait()

    def touch(self) -> None:
        """Record activity and push the idle deadline back.

        The deadline moves only when it has fallen behind by a hundredth of the idle limit:
        moving a trio deadline costs more than the output chunk that prompts it.
        """
        self.last_activity_at = time.time()
        idle = self.limits.idle_timeout_s
        if idle is None or self._attachments:
            deadline = math.inf
        else:
            deadline = trio.current_time() + idle
            if deadline - idle / 100 < self._pump_scope.deadline <= deadline:
                return
        if self._pump_scope.deadline != deadline:
            self._pump_scope.deadline = deadline

    # -- attachments ------------------------------------------------------------------------

    def attach(self, attachment_id: int, client: str, read_only: bool) -> AttachmentInfo:
        """Register an attached client (a watcher keeps the session from idling out)."""
        info = AttachmentInfo(attachment_id, client, read_only, time.time())
        self._attachments[attachment_id] = info
        self.touch()
        self._notify()
        return info

    def detach(self, attachment_id: int) -> None:
        """Forget an attachment; the session goes on."""
        if self._attachments.pop(attachment_id, None) is not None:
            self.touch()
            self._notify()

    # -- the session's task -----------------------------------------------------------------

    async def serve(self, opener: Opener, *, task_status: trio.TaskStatus[None]) -> None:
        """Open the transport, go live, pump output until the end; report started once live."""
        started = False
        try:
            async with opener(self.request) as transport:
                self._go_live(transport)
                if not self.connecting:
                    await self._set_up(transport)
                started = True
                task_status.started()
                # The status holds the nursery the task started in and so the task that
                # opened the session (a fleet's slot, a call's handler) for as long as this
                # frame lives: the session's whole life.
                del task_status
                await self._serve_live(transport)
        except Exception as exc:
            if not started:
                self._end(SessionState.LOST, str(exc) or type(exc).__name__)
                raise
            logger.warning("session %s failed: %r", self.id, exc)
            self._end(SessionState.LOST, f"the terminal failed: {exc}")
        finally:
            self._end(SessionState.CLOSED, self._stop_reason or "the daemon stopped")
            self._served = True
            if self._done is not None:  # its waiters hold it; later ones see _served
                self._done.set()
                self._done = None

    @property
    def connecting(self) -> bool:
        """KoKo asks in the terminal for a secret before it connects to the asset: the session
        is usable only by a person answering it (``jsctl secret``) until the shell relays."""
        return self._transport is not None and self._transport.info.get("relaying") is False

    async def _set_up(self, transport: TerminalTransport) -> None:
        """What the shell gets first: an agent's guard loop, or exec's settings."""
        if self.guard_token is not None:
            await transport.send_input(guard_line(self.guard_token))
        elif self.request.purpose == "exec":
            await transport.send_input(exec_setup_line())

    def _go_live(self, transport: TerminalTransport) -> None:
        self._transport = transport
        self.state = SessionState.LIVE
        self._on_change(self.id)
        if self.request.record_path is not None:
            title = f"{self.request.account}@{self.request.asset}"
            self._recorder = AsciicastRecorder(
                self.request.record_path, self.cols, self.rows, title
            )
        self.touch()
        self._notify()

    async def _serve_live(self, transport: TerminalTransport) -> None:
        """Output into the session until the terminal ends, kill or the idle limit; a terminal
        that waited for KoKo's connect secret gets its setup once the shell relays.

        One frame for the session's life: every level of awaiting costs each idle session one.
        """
        with self._pump_scope:
            set_up_due = self.connecting
            try:
                while True:
                    if set_up_due and not self.connecting:
                        set_up_due = False
                        await self._set_up(transport)
                    self._on_output(await transport.receive())
            except TerminalClosed as exc:
                self._end(SessionState.CLOSED, exc.reason)
            except TerminalLost as exc:
                self._end(SessionState.LOST, exc.reason)
        if self._pump_scope.cancelled_caught:
            self._end(SessionState.CLOSED, self._stop_reason or self._idle_reason())

    def _idle_reason(self) -> str:
        seconds = self.limits.idle_timeout_s or 0
        return f"closed after {seconds:g} s without activity (the idle limit)"

    def _on_output(self, chunk: bytes) -> None:
        for output_filter in self.output_filters:  # e.g. a typed secret's echo removed
            chunk = output_filter(chunk)
        if not chunk:
            return
        offset = self.ring.end_offset
        self.ring.append(chunk)
        self.last_output_at = trio.current_time()
        self.use.on_output(chunk)
        if self._recorder is not None:
            self._recorder.output(chunk)
        if self.current_run is not None:
            self.current_run.on_output(chunk, offset)
            self.release_finished_run()
        self.touch()
        self.server_active_at = self.last_activity_at
        self._notify()

    def _end(self, state: SessionState, reason: str) -> None:
        if self.state.ended:
            return
        self.state = state
        self.reason = reason
        self.ended_at = time.time()
        self._on_change(self.id)
        if self.current_run is not None:
            self.current_run.lose(self.ring.end_offset, f"the session ended: {reason}")
            self.release_finished_run()
        if self._recorder is not None:
            self._recorder.close()
        self._pump_scope.cancel()
        self._notify()

    @property
    def stopping(self) -> bool:
        """Whether the session was told to end (it may not have ended yet)."""
        return self._stop_reason is not None

    def stop(self, reason: str) -> None:
        """End the session now (kill, shutdown); the transport is closed by its opener."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._pump_scope.cancel()

    # -- input, resize, runs ----------------------------------------------------------------

    def _require_live(self) -> TerminalTransport:
        if self.state.ended:
            raise SessionEnded(self.id, self.state.value, self.reason)
        if self._transport is None:
            raise SessionNotReady(f"session `{self.id}` is still connecting — try again shortly")
        return self._transport

    def require_writable(self) -> None:
        """Raise SessionEnded / SessionNotReady / SessionPaused unless input can be typed now."""
        self._require_writable()

    def _require_writable(self) -> TerminalTransport:
        """Live and not paused: a paused KoKo session drops input silently (sheet 7.6)."""
        transport = self._require_live()
        if transport.info.get("paused"):
            raise SessionPaused(self.id, transport.info.get("paused_by"))
        return transport

    async def send_input(self, data: bytes) -> None:
        """Send a client's keystrokes; a Ctrl-C among them interrupts the current run."""
        run = self.current_run
        # Bash drops the rest of the line when the job dies of SIGINT, so the run's END marker
        # never comes; the run is recovered with a probe instead.
        if (
            run is not None
            and CTRL_C in data
            and run.request_stop(RunState.INTERRUPTED, self.ring.end_offset)
        ):
            self._supervise(self._recover_run, run)
        await self._send(data)

    async def _send(self, data: bytes) -> None:
        transport = self._require_writable()
        try:
            await transport.send_input(data)
        except TerminalEnded as exc:
            raise SessionEnded(self.id, "ending", exc.reason) from exc
        self.touch()
        self.server_active_at = self.last_activity_at

    async def resize(self, cols: int, rows: int) -> None:
        """Change the terminal size (the screen view follows)."""
        transport = self._require_live()
        if cols <= 0 or rows <= 0:
            raise ValueError(f"a terminal needs a positive size, not {cols}x{rows}")
        await transport.resize(cols, rows)
        self.server_active_at = time.time()
        self.cols, self.rows = cols, rows
        self._screen.note_resize(self.ring.end_offset, cols, rows)
        if self._recorder is not None:
            self._recorder.resize(cols, rows)
        self.touch()
        self._notify()

    # -- screen -----------------------------------------------------------------------------

    async def screen(self) -> ScreenSnapshot:
        """What a person would see now."""
        lines, x, y, title, offset = await self._screen.catch_up(self.ring)
        self.touch()
        cols, rows = self._screen.size
        return ScreenSnapshot(self.id, cols, rows, tuple(lines), x, y, title, offset)
