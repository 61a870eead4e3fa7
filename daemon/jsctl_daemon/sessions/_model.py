"""Plain value types of the sessions layer: requests, limits, states and snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

# The transport's info key under which the opener puts the server's own idle limit (seconds).
SERVER_IDLE_KEY = "server_idle_timeout_s"


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """What the daemon asks the opener for: one terminal on one asset/account."""

    profile: str
    asset: str  # the asset as the user named it (name, address or id)
    account: str
    owner: str  # "cli" for the human, else the client identity name
    asset_id: str | None = None
    account_alias: str | None = None  # what the server's connection token needs (sheet 5.3)
    cols: int = 80
    rows: int = 24
    name: str | None = None  # optional unique session name
    purpose: str = "shell"  # "shell" (a person's), "exec" (exec's pool) or "agent"
    record_path: Path | None = None  # write an asciicast v2 recording here (off when None)


@dataclass(frozen=True)
class SessionLimits:
    """Configurable bounds; ``None`` means unlimited."""

    max_per_profile: int | None = None
    max_per_owner: int | None = None  # open sessions per owner (an agent client)…
    unlimited_owners: frozenset[str] = frozenset()  # …except these (the person's own)
    idle_timeout_s: float | None = 3600.0  # no input, output or client use this long -> close
    buffer_bytes: int = 1 << 20  # per-session output ring buffer size
    keep_ended: int = 32  # ended sessions kept (readable) before the oldest is forgotten
    keep_runs: int = 64  # finished runs kept per session
    probe_timeout_s: float = 5.0  # how long a shell gets to answer a probe after Ctrl-C
    interrupt_grace_s: float = 0.5  # wait this long for the command's own end marker after Ctrl-C
    start_warning_s: float = 10.0  # a run's note warns when its command has not started by then
    screen_catchup_bytes: int = 256 << 10  # feed at most this much history into a fresh screen
    # KoKo ends a session after SECURITY_MAX_IDLE_TIME without input, output or resize (its
    # default: 30 minutes). Shown with sessions and warned about; never worked around.
    server_idle_timeout_s: float | None = 1800.0
    server_idle_warning_s: float = 300.0  # warn this long before KoKo's idle cut-off


class SessionState(Enum):
    """Where a session is in its life."""

    STARTING = "starting"
    LIVE = "live"
    LOST = "lost"  # the connection broke; ``reason`` says how
    CLOSED = "closed"  # ended in order (shell exit, kill, idle limit); ``reason`` says which

    @property
    def ended(self) -> bool:
        """True once the session can produce no more output."""
        return self in (SessionState.LOST, SessionState.CLOSED)


class RunState(Enum):
    """Where an exec run is in its life."""

    RUNNING = "running"
    DONE = "done"
    TIMEOUT = "timeout"  # the run's time limit hit; Ctrl-C was sent
    INTERRUPTED = "interrupted"  # someone asked for Ctrl-C
    LOST = "lost"  # the session ended before the command did

    @property
    def finished(self) -> bool:
        """True once the run's output and status are final."""
        return self is not RunState.RUNNING


@dataclass(frozen=True)
class AttachmentInfo:
    """One client attached to a session; read-only is a property of the attachment."""

    id: int
    client: str
    read_only: bool
    attached_at: float  # wall clock, seconds since the epoch


@dataclass(frozen=True)
class SessionInfo:
    """A snapshot of one session, as listings and RPC replies show it."""

    id: str
    name: str | None
    owner: str
    profile: str
    asset: str
    asset_id: str | None
    account: str
    state: SessionState
    reason: str | None  # why it ended (for lost/closed)
    exit_status: int | None  # the shell's exit status when the transport reported one
    created_at: float
    last_activity_at: float
    cols: int
    rows: int
    start_offset: int  # oldest output byte still readable
    end_offset: int  # one past the newest output byte
    buffer_bytes: int
    attachments: tuple[AttachmentInfo, ...]
    current_run: str | None
    idle_timeout_s: float | None
    recording: str | None
    transport_info: dict[str, object] = field(default_factory=dict)
    purpose: str = "shell"  # see OpenRequest.purpose
    # KoKo's own idle cut-off (SECURITY_MAX_IDLE_TIME, default 30 minutes): it counts input,
    # output and resizes only, so reading or attaching does not hold it off.
    server_idle_timeout_s: float | None = None
    server_active_at: float | None = None  # last input, output or resize (wall clock)
    server_idle_warning_s: float = 300.0
    server_idle_known: bool = False  # the limit was read from the server, not assumed


@dataclass(frozen=True)
class SessionListing:
    """Sessions matching a filter, with the limits that apply to them."""

    sessions: tuple[SessionInfo, ...]
    limits: SessionLimits


@dataclass(frozen=True)
class RunInfo:
    """A snapshot of one exec run (a handle: read its output by offset, wait for it)."""

    id: str
    session_id: str
    owner: str
    command: str
    request_id: str | None
    state: RunState
    exit_status: int | None
    output_offset: int  # read the run's output from here (clamped to where it really starts)
    start_offset: int | None  # first byte of output, once the shell started the command
    end_offset: int | None  # one past the last byte of output, once finished
    readable_end: int  # output is readable up to here now (a possible partial marker held back)
    started_at: float
    ended_at: float | None
    note: str | None  # what happened, when the run did not simply finish
    stderr_range: tuple[int, int] | None = None  # standard error's bytes (child-shell runs)
    prompt: str | None = None  # the prompt the command seems to wait at (still running)
    prompt_kind: str | None = None  # secret, confirm, pager, key (see _prompts)
    shell_ended: bool = False  # the command ended the shell it ran in

    @property
    def waiting_input(self) -> bool:
        """The command is still running but stopped at what looks like a prompt."""
        return self.prompt is not None and not self.state.finished


@dataclass(frozen=True)
class ScreenSnapshot:
    """What a person looking at the terminal would see now."""

    session_id: str
    cols: int
    rows: int
    lines: tuple[str, ...]
    cursor_x: int
    cursor_y: int
    title: str
    offset: int  # the screen reflects output up to this offset
