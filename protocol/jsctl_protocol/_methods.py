"""The method table: every RPC method declared once.

The daemon dispatches on it, the CLI, the MCP server and completion are views of it.
Adding a capability is one handler in the daemon plus one row here.
"""

from __future__ import annotations

from . import _params as p
from ._methods_consent import CONSENT_METHODS, SECRET_METHODS
from ._methods_files import FILE_METHODS
from ._methods_fleet import FLEET_METHODS
from ._methods_sessions import SESSION_METHODS
from ._table import Cli, Method, Param
from ._table import Permission as P
from ._version import PROTOCOL_VERSION

__all__ = ["METHODS", "PROTOCOL_VERSION", "TOOL_METHODS", "method"]

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
            every_client=True,
        ),
        Method(
            "ping",
            "Check that the daemon answers.",
            (),
            "{pong: true, time}",
            P.PUBLIC,
            cli=Cli("ping", "daemon_cmds"),
            every_client=True,
        ),
        Method(
            "daemon.status",
            "Daemon pid, version, uptime, memory, clients and sessions.",
            (),
            "{pid, version, uptime_s, rss_bytes, clients, sessions, socket, profiles}",
            P.READ,
            every_client=True,
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
            cli=Cli("login", "auth_cmds", "Log in to a JumpServer (password, captcha, MFA) once."),
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
            cli=Cli("logout", "auth_cmds", "Revoke and forget a profile's login."),
        ),
        Method(
            "auth.whoami",
            "Who the profile is logged in as, until when, and what KoKo connections use.",
            (p.profile,),
            "{profile, url, user, org, web_session, access_key, koko: {via, header_auth, detail}}",
            P.READ,
            cli=Cli("whoami", "auth_cmds", "Show who you are logged in as, and until when."),
            every_client=True,
        ),
        Method(
            "auth.doctor",
            "Check server, TLS, REST auth, web session and KoKo, with fixes.",
            (p.profile,),
            "{checks: [{name, ok, detail, fix}]}",
            cli=Cli("doctor", "auth_cmds", "Diagnose daemon, socket, network, TLS and login."),
        ),
        Method(
            "profile.list",
            "Configured profiles and the default.",
            (),
            "{default, profiles: [...]}",
            P.READ,
            cli=Cli("profile", "auth_cmds", "List profiles, choose the default, forget one."),
            every_client=True,
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
            cli=Cli("assets", "directory_cmds", "List permitted assets (cached; --refresh)."),
        ),
        Method(
            "assets.show",
            "One asset with its permitted protocols and accounts.",
            (p.asset, p.profile, p.org, Param("refresh", "bool", "re-read it from the server")),
            "{asset: {..., protocols: [{name, port}], accounts: [...]}}",
            P.READ,
            tools=("find",),
            cli=Cli("asset", "directory_cmds", "Show one asset with its protocols and accounts."),
        ),
        Method(
            "accounts.list",
            "Accounts this user may use on an asset (connect with the alias).",
            (p.asset, p.profile, p.org),
            "{asset: {id, name, address}, accounts: [{alias, name, username, is_virtual,"
            " has_secret, actions}]}",
            P.READ,
            tools=("find",),
            cli=Cli("accounts", "directory_cmds", "List the accounts you may use on an asset."),
        ),
        Method(
            "nodes.list",
            "Asset nodes (folders) in tree order.",
            (p.profile, p.org, Param("refresh", "bool", "re-read from the server first")),
            "{nodes: [{id, key, path, name, assets_amount}], cached_at, org}",
            P.READ,
            tools=("find",),
            cli=Cli("nodes", "directory_cmds", "List asset nodes (--tree to draw them)."),
        ),
        Method(
            "connect_methods",
            "How the server lets this user connect, per protocol.",
            (p.profile,),
            "{methods: {protocol: [{component, type, value, label, ...}]}}",
            P.READ,
            tools=("find",),
            cli=Cli("connect-methods", "directory_cmds", "Show how you may connect."),
        ),
        *SESSION_METHODS,
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
        Method(
            "client.list",
            "Agent identities.",
            (),
            "{clients: [...]}",
            cli=Cli("client", "agent_cmds", "Create, list and revoke agent client identities."),
        ),
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
            cli=Cli("audit", "agent_cmds", "Show what agents and you did, with exit statuses."),
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
