"""The method table: every RPC method declared once.

The daemon dispatches on it, the CLI, the MCP server and completion are views of it.
Adding a capability is one handler in the daemon plus one row here.
"""

from __future__ import annotations

from ._table import Method, Param
from ._table import Permission as P
from ._version import PROTOCOL_VERSION

__all__ = ["METHODS", "PROTOCOL_VERSION", "method"]

_profile = Param("profile", "str", "profile name (default: the default profile)")
_session = Param("session", "str", "session id or name", required=True)
_handle = Param("handle", "str", "run handle", required=True)
_asset = Param("asset", "str", "asset name, address or id (unique prefix allowed)", required=True)
_account = Param("account", "str", "account name, username or alias")
_org = Param("org", "str", "organisation id or name for this call")
_timeout = Param("timeout", "float", "seconds to wait")
_max_bytes = Param("max_bytes", "int", "at most this many bytes")
_wait_output = Param("wait", "float", "seconds to wait for new output")
_json_ok = "{ok: true}"
_file_path = Param("path", "str", "remote path relative to the file root (default: /)")
_file_path_required = Param("path", "str", "remote path relative to the file root", required=True)
_force = Param("force", "bool", "overwrite an existing file")
_recursive = Param("recursive", "bool", "copy directories and their contents")
_where = (_account, _profile, _org)
_transfer_reply = (
    "streams {event, file, bytes, total_bytes, files, total_files}; "
    "ends with {files: [{source, target, size, sha256}], bytes, seconds}"
)


def _transfer(name: str, summary: str, sources: str, dest: str) -> Method:
    """An upload or download row: streamed progress, then the copied files."""
    return Method(
        name,
        summary,
        (
            _asset,
            Param("sources", "list", sources, required=True),
            Param("dest", "str", dest, required=True),
            _recursive,
            _force,
            *_where,
        ),
        _transfer_reply,
        P.USE,
        streams=True,
    )


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        # --- the daemon itself
        Method(
            "hello",
            "Open the conversation: protocol version and, for agents, a client token.",
            (
                Param("version", "int", "protocol version the client speaks", required=True),
                Param("client", "str", "front end name and version, for logs"),
                Param("token", "str", "client token (agents); absent for the human's CLI"),
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
            _json_ok,
            P.HUMAN,
            starts_daemon=False,
        ),
        # --- auth and profiles
        Method(
            "auth.login.start",
            "Begin a web login for a profile; answers the first thing it needs.",
            (
                _profile,
                Param("url", "str", "JumpServer base URL"),
                Param("username", "str", "JumpServer username"),
                _org,
                Param("ca_file", "str", "CA bundle to verify the server"),
                Param("insecure", "bool", "skip TLS verification"),
            ),
            "{login_id, step, ...}",
        ),
        Method(
            "auth.login.answer",
            "Answer the login's current step (password, captcha, MFA choice or code, wait).",
            (
                Param("login_id", "str", "from auth.login.start", required=True),
                Param("password", "str", "the password"),
                Param("captcha", "str", "the captcha answer"),
                Param("mfa_type", "str", "chosen MFA type"),
                Param("code", "str", "the MFA code"),
                Param("wait", "float", "seconds to wait for a login review"),
            ),
            "{login_id, step, ...}",
        ),
        Method(
            "auth.login.cancel",
            "Abandon a login in progress.",
            (Param("login_id", "str", "from auth.login.start", required=True),),
            _json_ok,
        ),
        Method(
            "auth.logout",
            "Revoke what can be revoked server-side and forget the profile's login.",
            (_profile,),
            _json_ok,
        ),
        Method(
            "auth.whoami",
            "Who the profile is logged in as, and until when.",
            (_profile,),
            "{profile, url, user, org, web_session, access_key}",
            P.READ,
        ),
        Method(
            "auth.doctor",
            "Check server, TLS, REST auth, web session and KoKo, with fixes.",
            (_profile,),
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
            (Param("name", "str", "profile", required=True),),
            _json_ok,
        ),
        Method(
            "profile.remove",
            "Forget a profile and its login.",
            (Param("name", "str", "profile", required=True),),
            _json_ok,
        ),
        # --- directory
        Method(
            "assets.list",
            "Permitted assets (from the daemon's cache), filtered by pattern, node and protocol.",
            (
                _profile,
                _org,
                Param("pattern", "str", "substring, or glob such as web-*, of name or address"),
                Param("node", "str", "node path (/Default/web), unique path suffix, or id"),
                Param("protocol", "str", "only assets offering it, e.g. ssh"),
                Param("refresh", "bool", "re-read the whole list from the server first"),
                Param("limit", "int", "at most this many (total still counts all)"),
            ),
            "{assets: [{id, name, address, platform, nodes, protocols, comment, org_id,"
            " is_active}], total, cached_at, stale, warning, org}",
            P.READ,
        ),
        Method(
            "assets.show",
            "One asset with its permitted protocols and accounts.",
            (_asset, _profile, _org, Param("refresh", "bool", "re-read it from the server")),
            "{asset: {..., protocols: [{name, port}], accounts: [...]}}",
            P.READ,
        ),
        Method(
            "accounts.list",
            "Accounts this user may use on an asset (connect with the alias).",
            (_asset, _profile, _org),
            "{asset: {id, name, address}, accounts: [{alias, name, username, is_virtual,"
            " has_secret, actions}]}",
            P.READ,
        ),
        Method(
            "nodes.list",
            "Asset nodes (folders) in tree order.",
            (_profile, _org, Param("refresh", "bool", "re-read from the server first")),
            "{nodes: [{id, key, path, name, assets_amount}], cached_at, org}",
            P.READ,
        ),
        Method(
            "connect_methods",
            "How the server lets this user connect, per protocol.",
            (_profile,),
            "{methods: {protocol: [{component, type, value, label, ...}]}}",
            P.READ,
        ),
        # --- sessions
        Method(
            "session.open",
            "Open a terminal session on an asset (or reuse a named one).",
            (
                _asset,
                _account,
                _profile,
                _org,
                Param("name", "str", "a name to find the session by"),
                Param("cols", "int", "terminal width"),
                Param("rows", "int", "terminal height"),
                Param("reuse", "bool", "reuse an idle live session on the same asset/account"),
            ),
            "{session}",
            P.USE,
        ),
        Method(
            "session.list",
            "Live and recent sessions (an agent sees its own).",
            (Param("all", "bool", "include closed sessions"),),
            "{sessions: [...]}",
            P.READ,
        ),
        Method("session.get", "One session's details.", (_session,), "{session}", P.READ),
        Method(
            "session.read",
            "Output from an absolute offset; tells exactly how many bytes were missed.",
            (
                _session,
                Param("offset", "int", "absolute byte offset (default: what is still buffered)"),
                _max_bytes,
                _wait_output,
            ),
            "{data, offset, next_offset, missed, state}",
            P.READ,
        ),
        Method(
            "session.attach",
            "Stream a session's output from an offset until detach or its end.",
            (
                _session,
                Param("offset", "int", "start offset (default: recent output)"),
                Param("read_only", "bool", "this attachment may not write or resize"),
            ),
            "streams {data, offset, missed} and {state}; ends with {state, reason}",
            P.READ,
            streams=True,
        ),
        Method(
            "session.write",
            "Send input bytes to a session.",
            (_session, Param("data", "text", "bytes or text to send", required=True)),
            "{written}",
            P.USE,
        ),
        Method(
            "session.resize",
            "Set a session's terminal size.",
            (
                _session,
                Param("cols", "int", "width", required=True),
                Param("rows", "int", "height", required=True),
            ),
            _json_ok,
            P.USE,
        ),
        Method(
            "session.kill",
            "End sessions now.",
            (Param("sessions", "list", "ids or names", required=True),),
            "{killed: [...]}",
            P.USE,
        ),
        Method(
            "session.rename",
            "Name a session.",
            (_session, Param("name", "str", "new name", required=True)),
            "{session}",
            P.USE,
        ),
        Method(
            "session.screen",
            "What a person would see on the session's screen now.",
            (_session,),
            "{text, cols, rows, cursor}",
            P.READ,
        ),
        # --- runs (exec)
        Method(
            "run.start",
            "Run one command in a session (new or reused) and wait up to `timeout` for it.",
            (
                Param("command", "str", "shell command line", required=True),
                Param("session", "str", "session id or name to run in"),
                Param("asset", "str", "asset for a new or reused session"),
                _account,
                _profile,
                _org,
                Param("timeout", "float", "seconds before the command is interrupted"),
                Param("wait", "float", "seconds to wait before answering `running`"),
                Param("request_id", "str", "idempotency key: a retry returns the same run"),
                Param("stream", "bool", "push output as it comes (CLI)"),
                Param("max_bytes", "int", "at most this many output bytes in the answer"),
            ),
            "{handle, session, state, exit_status, output, next_offset, total_bytes}",
            P.USE,
            streams=True,
        ),
        Method("run.get", "A run's state and exit status.", (_handle,), "{run}", P.READ),
        Method("run.wait", "Wait for a run to end.", (_handle, _timeout), "{run}", P.READ),
        Method(
            "run.read",
            "A run's output from an offset.",
            (
                _handle,
                Param("offset", "int", "offset within the run's output"),
                _max_bytes,
                _wait_output,
            ),
            "{data, offset, next_offset, missed, state, exit_status}",
            P.READ,
        ),
        Method(
            "run.interrupt",
            "Send Ctrl-C to a run (or to a session's foreground).",
            (Param("target", "str", "run handle or session", required=True),),
            _json_ok,
            P.USE,
        ),
        # --- files (helper F1) ------------------------------------------------------------
        Method(
            "files.list",
            "List a remote directory (paths are relative to the asset's file root).",
            (_asset, _file_path, *_where),
            "{session, api, root, path, entry, entries: [{name, path, type, size, mtime, mode}]}",
            P.READ,
        ),
        Method(
            "files.stat",
            "One remote file's or directory's type, size and time.",
            (_asset, _file_path_required, *_where),
            "{entry}",
            P.READ,
        ),
        Method(
            "files.mkdir",
            "Create a remote directory (`parents`: also missing parents, no error if it exists).",
            (_asset, _file_path_required, Param("parents", "bool", "like mkdir -p"), *_where),
            "{path, created}",
            P.USE,
        ),
        Method(
            "files.remove",
            "Remove a remote file; a directory needs `recursive`; the file root is refused.",
            (_asset, _file_path_required, Param("recursive", "bool", "like rm -r"), *_where),
            "{path, removed}",
            P.USE,
        ),
        Method(
            "files.move",
            "Rename or move a remote path on one asset (`force` replaces a file).",
            (
                _asset,
                Param("source", "str", "remote path", required=True),
                Param("dest", "str", "remote path or existing directory", required=True),
                _force,
                *_where,
            ),
            "{path}",
            P.USE,
        ),
        _transfer(
            "files.upload",
            "Copy local files (absolute paths the daemon reads) to a remote path, streamed.",
            sources="absolute local paths",
            dest="remote path or directory",
        ),
        _transfer(
            "files.download",
            "Copy remote files to a local absolute path the daemon writes, streamed.",
            sources="remote paths",
            dest="absolute local path or directory",
        ),
        Method(
            "files.sessions",
            "Live file sessions (an agent sees its own).",
            (),
            "{sessions: [{id, profile, asset, account, owner, api, root, busy}]}",
            P.READ,
        ),
        Method(
            "files.close",
            "Close a file session now.",
            (Param("session", "str", "file session id", required=True),),
            "{closed}",
            P.USE,
        ),
        # --- clients and audit
        Method(
            "client.create",
            "Create an agent identity with an allow-list; its token is shown once.",
            (
                Param("name", "str", "client name", required=True),
                Param("allow", "list", "asset/node glob patterns", required=True),
                Param("accounts", "list", "account glob patterns"),
                Param("tools", "list", "MCP tools it may use"),
                Param("expires", "float", "seconds until the token expires"),
            ),
            "{client, token}",
        ),
        Method("client.list", "Agent identities.", (), "{clients: [...]}"),
        Method(
            "client.revoke",
            "Revoke an identity now; its sessions are closed.",
            (Param("name", "str", "client name", required=True),),
            "{closed_sessions}",
        ),
        Method(
            "audit.query",
            "Audit records, newest last.",
            (
                Param("client", "str", "only this client"),
                Param("asset", "str", "only this asset"),
                Param("since", "float", "unix time"),
                Param("limit", "int", "at most this many"),
                Param("follow", "bool", "then stream new records"),
            ),
            "{records: [...]}",
            streams=True,
        ),
        Method(
            "complete",
            "Candidates for shell completion, from the cache only (never a round trip).",
            (
                Param("kind", "str", "asset|account|node|session|profile|client", required=True),
                Param("prefix", "str", "what is typed so far"),
                Param("asset", "str", "asset already typed (for accounts)"),
                _profile,
                _org,
            ),
            "{items: [...]}",
            P.READ,
            starts_daemon=False,
        ),
    )
}


def method(name: str) -> Method | None:
    """The table row for ``name``, if any."""
    return METHODS.get(name)
