"""The session and run rows of the method table: terminals on assets and commands in them."""

from __future__ import annotations

from . import _params as p
from ._table import Cli, Method, Param
from ._table import Permission as P

MAX_WAIT_S = 1e9  # "forever" in seconds: finite, so every deadline is a real number
# A watch link (session.share) is this prefix and a random token; session.attach takes it in
# place of a session id, once, read-only.
WATCH_LINK_PREFIX = "jsw-"

SESSION_METHODS: tuple[Method, ...] = (
    # --- sessions
    Method(
        "session.open",
        "Open a terminal session on an asset (or reuse a named one).",
        (
            p.asset,
            p.account,
            p.profile,
            p.org,
            Param("name", "str", "a name to find the session by", max_len=64),
            Param("cols", "int", "terminal width", minimum=2, maximum=1000),
            Param("rows", "int", "terminal height", minimum=2, maximum=1000),
            Param("reuse", "bool", "reuse an idle live session on the same asset/account"),
        ),
        "{session}",
        P.USE,
        tools=("run",),
        cli=Cli("shell", "session_cmds", "Open an interactive terminal on an asset."),
    ),
    Method(
        "session.list",
        "Live and recent sessions (an agent sees its own).",
        (Param("all", "bool", "include closed sessions"),),
        "{sessions: [...]}",
        P.READ,
        tools=("read", "sessions"),
        cli=Cli("sessions", "session_cmds", "List terminal sessions."),
    ),
    Method(
        "session.get",
        "One session's details.",
        (p.session,),
        "{session}",
        P.READ,
        tools=("read", "sessions"),
    ),
    Method(
        "session.read",
        "Output from an absolute offset; tells exactly how many bytes were missed.",
        (
            p.session,
            Param(
                "offset",
                "int",
                "absolute byte offset (default: what is still buffered)",
                minimum=0,
                maximum=1 << 62,
            ),
            p.max_bytes,
            p.wait_output,
        ),
        "{data, offset, next_offset, missed, state}",
        P.READ,
        tools=("read",),
        cli=Cli("logs", "session_cmds", "Print a session's or a run's output from an offset."),
    ),
    Method(
        "session.attach",
        "Stream a session's output from an offset until detach or its end.",
        (
            p.session,
            Param(
                "offset",
                "int",
                "start offset (default: recent output)",
                minimum=0,
                maximum=1 << 62,
            ),
            Param("read_only", "bool", "this attachment may not write or resize"),
        ),
        "streams {data, offset, missed} and {state}; ends with {state, reason}",
        P.READ,
        streams=True,
        cli=Cli("attach", "session_cmds", "Reattach to a session (--read-only to watch)."),
        every_client=True,
    ),
    Method(
        "session.share",
        "A one-time, expiring, read-only watch link; session.attach takes it as `session`.",
        (
            p.session,
            Param(
                "expires",
                "float",
                "seconds the link may be used in (default 600)",
                minimum=1,
                maximum=86400,
            ),
        ),
        "{token, session, asset, expires_at, command}",
        P.HUMAN,
        cli=Cli("share", "session_cmds", "Print a one-time link to watch a session read-only."),
    ),
    Method(
        "session.write",
        "Send input bytes to a session.",
        (p.session, Param("data", "text", "bytes or text to send", required=True)),
        "{written}",
        P.USE,
        tools=("input",),
    ),
    Method(
        "session.resize",
        "Set a session's terminal size.",
        (
            p.session,
            Param("cols", "int", "width", required=True, minimum=2, maximum=1000),
            Param("rows", "int", "height", required=True, minimum=2, maximum=1000),
        ),
        p.JSON_OK,
        P.USE,
        tools=("input",),
    ),
    Method(
        "session.kill",
        "End sessions now.",
        (Param("sessions", "list", "ids or names", required=True, max_len=4096, items="str"),),
        "{killed: [...]}",
        P.USE,
        tools=("close",),
        retry_safe=True,  # a second kill of the same sessions ends nothing more
        cli=Cli("kill", "session_cmds"),
    ),
    Method(
        "session.rename",
        "Name a session.",
        (p.session, Param("name", "str", "new name", required=True, max_len=64)),
        "{session}",
        P.USE,
        tools=("input",),  # changes a session: not part of the read-only `sessions` listing
        cli=Cli("rename", "session_cmds"),
    ),
    Method(
        "session.screen",
        "What a person would see on the session's screen now.",
        (p.session,),
        "{text, cols, rows, cursor}",
        P.READ,
        tools=("screen",),
        cli=Cli("screen", "session_cmds", "Show a session's screen as a person would see it."),
    ),
    # --- runs (exec)
    Method(
        "run.start",
        "Run one command in a session (new or reused) and wait up to `timeout` for it.",
        (
            Param("command", "str", "shell command line", required=True, max_len=64 << 10),
            Param("session", "str", "session id or name to run in", max_len=64),
            Param("asset", "str", "asset for a new or reused session", max_len=256),
            p.account,
            p.profile,
            p.org,
            Param(
                "timeout",
                "float",
                "seconds before the command is interrupted",
                minimum=0,
                maximum=MAX_WAIT_S,
            ),
            Param(
                "wait",
                "float",
                "seconds to wait before answering `running`",
                minimum=0,
                maximum=MAX_WAIT_S,
            ),
            Param(
                "request_id",
                "str",
                "idempotency key: a retry returns the same run",
                max_len=128,
            ),
            Param("stream", "bool", "push output as it comes (CLI)"),
            Param(
                "stdin",
                "bytes",
                "what the command reads on its standard input (<= 1 MiB)",
                max_len=16 << 20,
            ),  # the handler names the real limit and `jsctl cp`
            Param(
                "keep_state",
                "bool",
                "run in the session's own shell so cd and variables persist (agents);"
                " default: a child shell as ssh runs, with stderr apart",
            ),
            Param("tty", "bool", "terminal as stdin, stdout and stderr as one stream"),
            Param("max_bytes", "int", "at most this many output bytes in the answer"),
        ),
        "{handle, session, state, exit_status, output, stderr, prompt, next_offset, total_bytes}",
        P.USE,
        streams="stream",
        tools=("run",),
        cli=Cli(
            "exec", "run_cmds", "Run a command on an asset; exit with its exit status.", "exec_"
        ),
    ),
    Method(
        "run.get",
        "A run's state and exit status.",
        (p.handle,),
        "{run}",
        P.READ,
        tools=("run", "read"),
    ),
    Method(
        "run.wait",
        "Wait for a run to end.",
        (p.handle, p.timeout),
        "{run}",
        P.READ,
        tools=("run", "read"),
        cli=Cli("wait", "run_cmds", "Wait for a detached run; exit with its status."),
    ),
    Method(
        "run.read",
        "A run's output from an offset.",
        (
            p.handle,
            Param("offset", "int", "offset within the run's output", minimum=0, maximum=1 << 62),
            p.max_bytes,
            p.wait_output,
        ),
        "{data, offset, next_offset, missed, state, exit_status}",
        P.READ,
        tools=("run", "read"),
    ),
    Method(
        "run.interrupt",
        "Send Ctrl-C to a run (or to a session's foreground).",
        (Param("target", "str", "run handle or session", required=True, max_len=128),),
        p.JSON_OK,
        P.USE,
        tools=("interrupt",),
        cli=Cli("interrupt", "session_cmds", "Send Ctrl-C to a run or a session."),
    ),
)
