"""The method table: every RPC method declared once.

The daemon dispatches on it, the CLI, the MCP server and completion are views of it.
Adding a capability is one handler in the daemon plus one row here.
"""

from __future__ import annotations

from . import _params as p
from ._methods_consent import CONSENT_METHODS, SECRET_METHODS
from ._methods_files import FILE_METHODS
from ._methods_fleet import FLEET_METHODS
from ._table import Method, Param
from ._table import Permission as P
from ._version import PROTOCOL_VERSION

__all__ = ["METHODS", "PROTOCOL_VERSION", "TOOL_METHODS", "method"]

MAX_WAIT_S = 1e9  # "forever" in seconds: finite, so every deadline is a real number

METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        # --- the daemon itself
        Method(
            "hello",
            "Open the conversation: protocol version and, for agents, a client token.",
            (
                Param(
                    "version",
                    "int",
                    "protocol version the client speaks",
                    required=True,
                    minimum=0,
                    maximum=1 << 16,
                ),
                Param("client", "str", "front end name and version, for logs", max_len=256),
                Param(
                    "token", "str", "client token (agents); absent for the human's CLI", max_len=256
                ),
            ),
            "{protocol, daemon_version, pid, identity: {kind, name}}",
            P.PUBLIC,
        ),
        Method("ping", "Check that the daemon answers.", (), "{pong: true, time}", P.PUBLIC),
        Method(
            "daemon.status",
            "Daemon pid, version, uptime, memory, clients and sessions.",
            (),
            "{pid, version, uptime_s, rss_bytes, clients, sessions, socket, profiles}",
            P.READ,
        ),
        Method(
            "daemon.shutdown",
            "Stop the daemon, closing sessions.",
            (),
            p.JSON_OK,
            P.HUMAN,
            starts_daemon=False,
        ),
        # --- auth and profiles
        Method(
            "auth.login.start",
            "Begin a web login for a profile; answers the first thing it needs.",
            (
                p.profile,
                Param("url", "str", "JumpServer base URL", max_len=2048),
                Param("username", "str", "JumpServer username", max_len=256),
                p.org,
                Param("ca_file", "str", "CA bundle to verify the server"),
                Param("insecure", "bool", "skip TLS verification"),
            ),
            "{login_id, step, ...}",
        ),
        Method(
            "auth.login.answer",
            "Answer the login's current step (password, captcha, MFA choice or code, wait).",
            (
                Param("login_id", "str", "from auth.login.start", required=True, max_len=128),
                Param("password", "str", "the password", max_len=1024),
                Param("captcha", "str", "the captcha answer", max_len=64),
                Param("mfa_type", "str", "chosen MFA type", max_len=32),
                Param("code", "str", "the MFA code", max_len=64),
                Param(
                    "wait", "float", "seconds to wait for a login review", minimum=0, maximum=3600
                ),
            ),
            "{login_id, step, ...}",
        ),
        Method(
            "auth.login.cancel",
            "Abandon a login in progress.",
            (Param("login_id", "str", "from auth.login.start", required=True, max_len=128),),
            p.JSON_OK,
        ),
        Method(
            "auth.logout",
            "Revoke what can be revoked server-side and forget the profile's login.",
            (p.profile,),
            p.JSON_OK,
        ),
        Method(
            "auth.whoami",
            "Who the profile is logged in as, until when, and what KoKo connections use.",
            (p.profile,),
            "{profile, url, user, org, web_session, access_key, koko: {via, header_auth, detail}}",
            P.READ,
        ),
        Method(
            "auth.doctor",
            "Check server, TLS, REST auth, web session and KoKo, with fixes.",
            (p.profile,),
            "{checks: [{name, ok, detail, fix}]}",
        ),
        Method(
            "profile.list",
            "Configured profiles and the default.",
            (),
            "{default, profiles: [...]}",
            P.READ,
        ),
        Method(
            "profile.use",
            "Make a profile the default.",
            (Param("name", "str", "profile", required=True, max_len=64),),
            p.JSON_OK,
        ),
        Method(
            "profile.remove",
            "Forget a profile and its login.",
            (Param("name", "str", "profile", required=True, max_len=64),),
            p.JSON_OK,
        ),
        # --- directory
        Method(
            "assets.list",
            "Permitted assets (from the daemon's cache), filtered by pattern, node and protocol.",
            (
                p.profile,
                p.org,
                Param(
                    "pattern",
                    "str",
                    "substring, or glob such as web-*, of name or address",
                    max_len=256,
                ),
                Param(
                    "node",
                    "str",
                    "node path (/DEFAULT/web), unique path suffix, or id",
                    max_len=1024,
                ),
                Param("protocol", "str", "only assets offering it, e.g. ssh", max_len=32),
                Param("refresh", "bool", "re-read the whole list from the server first"),
                Param("limit", "int", "at most this many (total still counts all)", minimum=0),
            ),
            "{assets: [{id, name, address, platform, nodes, protocols, comment, org_id,"
            " is_active}], total, cached_at, stale, warning, org}",
            P.READ,
            tools=("find",),
        ),
        Method(
            "assets.show",
            "One asset with its permitted protocols and accounts.",
            (p.asset, p.profile, p.org, Param("refresh", "bool", "re-read it from the server")),
            "{asset: {..., protocols: [{name, port}], accounts: [...]}}",
            P.READ,
            tools=("find",),
        ),
        Method(
            "accounts.list",
            "Accounts this user may use on an asset (connect with the alias).",
            (p.asset, p.profile, p.org),
            "{asset: {id, name, address}, accounts: [{alias, name, username, is_virtual,"
            " has_secret, actions}]}",
            P.READ,
            tools=("find",),
        ),
        Method(
            "nodes.list",
            "Asset nodes (folders) in tree order.",
            (p.profile, p.org, Param("refresh", "bool", "re-read from the server first")),
            "{nodes: [{id, key, path, name, assets_amount}], cached_at, org}",
            P.READ,
            tools=("find",),
        ),
        Method(
            "connect_methods",
            "How the server lets this user connect, per protocol.",
            (p.profile,),
            "{methods: {protocol: [{component, type, value, label, ...}]}}",
            P.READ,
            tools=("find",),
        ),
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
        ),
        Method(
            "session.list",
            "Live and recent sessions (an agent sees its own).",
            (Param("all", "bool", "include closed sessions"),),
            "{sessions: [...]}",
            P.READ,
            tools=("read", "sessions"),
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
        ),
        Method(
            "session.rename",
            "Name a session.",
            (p.session, Param("name", "str", "new name", required=True, max_len=64)),
            "{session}",
            P.USE,
            tools=("sessions",),
        ),
        Method(
            "session.screen",
            "What a person would see on the session's screen now.",
            (p.session,),
            "{text, cols, rows, cursor}",
            P.READ,
            tools=("screen",),
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
            "{handle, session, state, exit_status, output, stderr, prompt, next_offset,"
            " total_bytes}",
            P.USE,
            streams="stream",
            tools=("run",),
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
        ),
        Method(
            "run.read",
            "A run's output from an offset.",
            (
                p.handle,
                Param(
                    "offset", "int", "offset within the run's output", minimum=0, maximum=1 << 62
                ),
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
        ),
        *FILE_METHODS,
        *CONSENT_METHODS,
        *FLEET_METHODS,
        *SECRET_METHODS,
        # --- clients and audit
        Method(
            "client.create",
            "Create an agent identity with an allow-list; its token is shown once.",
            (
                Param("name", "str", "client name", required=True, max_len=64),
                Param("allow", "list", "asset/node glob patterns", required=True),
                Param("accounts", "list", "account glob patterns"),
                Param("tools", "list", "MCP tools it may use"),
                Param(
                    "expires",
                    "float",
                    "seconds until the token expires",
                    minimum=1,
                    maximum=10 * 366 * 86400,
                ),
                Param("confirm", "list", "approval rules: calls that wait for the person"),
            ),
            "{client, token}",
        ),
        Method("client.list", "Agent identities.", (), "{clients: [...]}"),
        Method(
            "client.revoke",
            "Revoke an identity now; its sessions are closed.",
            (Param("name", "str", "client name", required=True, max_len=64),),
            "{closed_sessions}",
        ),
        Method(
            "audit.query",
            "Audit records, newest last.",
            (
                Param("client", "str", "only this client", max_len=64),
                Param("asset", "str", "only this asset", max_len=256),
                Param("since", "float", "unix time", minimum=0, maximum=1e11),
                Param("limit", "int", "at most this many", minimum=0),
                Param("follow", "bool", "then stream new records"),
            ),
            "{records: [...]}",
            streams="follow",
        ),
        Method(
            "complete",
            "Candidates for shell completion, from the cache only (never a round trip).",
            (
                Param(
                    "kind",
                    "str",
                    "asset|account|node|session|profile|client",
                    required=True,
                    max_len=64,
                ),
                Param("prefix", "str", "what is typed so far", max_len=256),
                Param("asset", "str", "asset already typed (for accounts)", max_len=256),
                p.profile,
                p.org,
            ),
            "{items: [...]}",
            P.READ,
            starts_daemon=False,
            tools=("find",),
        ),
    )
}


def method(name: str) -> Method | None:
    """The table row for ``name``, if any."""
    return METHODS.get(name)


def _tool_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for row in METHODS.values():
        for tool in row.tools:
            groups.setdefault(tool, []).append(row.name)
    return {tool: tuple(names) for tool, names in groups.items()}


# Agent tool group → the methods its clients may call (`jsctl client create --tools`), derived
# from the rows' `tools=`: the MCP tools and the daemon's policy are views of this.
TOOL_METHODS: dict[str, tuple[str, ...]] = _tool_groups()
