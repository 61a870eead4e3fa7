"""`jsctl client create|ls|revoke` and `jsctl audit`: agent identities and what they did
(`jsctl mcp` is in mcp_cmds).

Client identities are guard rails and attribution for agents, not a wall: the daemon enforces
each client's allow-list on every call and records what it did, but any process running as the
same user can read that user's files (token files included) and talk to the daemon's socket.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from ._app import json_option, runtime

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``90``, ``30m``, ``12h``, ``7d`` or ``2w``."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration such as 30m, 12h, 7d or 2w")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_since(text: str) -> float:
    """A unix time from a unix time, a duration ago (``90``, ``1h``) or an ISO date/time."""
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return number if number > 1e9 else time.time() - number
    try:
        return time.time() - parse_duration(text)
    except click.BadParameter:
        pass
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a duration (1h), an ISO time (2024-05-01T12:00) nor unix time"
        ) from None


def _patterns(values: tuple[str, ...]) -> list[str]:
    """Repeated and comma-separated patterns as one list."""
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def _when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp)) if timestamp else "-"


# --- client identities


@click.group()
def client() -> None:
    """Create, list and revoke agent client identities (tokens with allow-lists)."""


_allow_option = click.option(
    "--allow",
    multiple=True,
    help="Asset or node glob patterns this client may use (repeat or comma-separate; '*' = all).",
)
_accounts_option = click.option(
    "--accounts", multiple=True, help="Account glob patterns (default: any permitted account)."
)
_tools_option = click.option(
    "--tools", help="Comma-separated MCP tools it may use (find,run,read,input,interrupt,...)."
)
_confirm_option = click.option(
    "--confirm",
    multiple=True,
    help="Hold calls matching RULE until you approve them (repeat): `writes` (anything not "
    "read-only), `all`, or conditions joined by '&': kind:run|input|files-write|files-delete|"
    "close, command:GLOB, command~REGEX, asset:GLOB, account:GLOB.",
)
_expires_option = click.option(
    "--expires", help="Token lifetime, e.g. 12h, 7d, 2w (default: none)."
)


def create_client(
    name: str,
    allow: tuple[str, ...],
    accounts: tuple[str, ...],
    tools: str | None,
    expires: str | None,
    confirm: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Ask the daemon for a new identity; the reply holds the token, shown once."""
    reply: dict[str, Any] = runtime().call(
        "client.create",
        name=name,
        allow=_patterns(allow),
        accounts=_patterns(accounts) or None,
        tools=_patterns((tools,)) if tools else None,
        expires=parse_duration(expires) if expires else None,
        confirm=[rule.strip() for rule in confirm if rule.strip()] or None,
    )
    return reply


@client.command("create")
@click.argument("name")
@_allow_option
@_accounts_option
@_tools_option
@_confirm_option
@_expires_option
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the token to this file (0600) instead of printing it.",
)
@json_option
def client_create(
    name: str,
    allow: tuple[str, ...],
    accounts: tuple[str, ...],
    tools: str | None,
    confirm: tuple[str, ...],
    expires: str | None,
    token_file: Path | None,
) -> None:
    """Create client NAME; its token is shown once and stored only hashed."""
    from ..mcp.install import write_token

    reply = create_client(name, allow, accounts, tools, expires, confirm)
    if token_file is not None:
        write_token(token_file, reply.pop("token"))
        reply["token_file"] = str(token_file)

    def show(data: dict[str, Any]) -> None:
        record = data["client"]
        click.echo(f"Created client {record['name']} (allow: {', '.join(record['allow'])}).")
        _say_confirm(record)
        if "token" in data:
            click.echo(f"Token (shown once, stored hashed): {data['token']}")
            click.echo(
                "Give it to the agent in a 0600 file (jsctl mcp --token-file FILE) or in "
                "$JSCTL_CLIENT_TOKEN, never on a command line.",
                err=True,
            )
        else:
            click.echo(f"Token written to {data['token_file']} (0600).")

    runtime().emit(reply, show)


def _say_confirm(record: dict[str, Any]) -> None:
    rules = record.get("confirm")
    if rules:
        click.echo(
            f"Calls matching {', '.join(rules)} wait for you: `jsctl approvals` lists them, "
            "`jsctl approve ID` (with a code from your authenticator) or `jsctl deny ID` decides."
        )


def _client_state(record: dict[str, Any]) -> str:
    if record.get("revoked"):
        return f"revoked {_when(record.get('revoked_at'))}"
    expires = record.get("expires_at")
    if expires and expires < time.time():
        return "expired"
    return f"active until {_when(expires)}" if expires else "active"


@client.command("ls")
@json_option
def client_ls() -> None:
    """List client identities (never their tokens)."""
    rt = runtime()

    def show(data: dict[str, Any]) -> None:
        if not data["clients"]:
            click.echo("no clients yet: `jsctl mcp install codex --allow PATTERN`")
        for record in data["clients"]:
            click.echo(
                f"{record['name']:20} allow={','.join(record['allow'])}"
                f" accounts={','.join(record.get('accounts') or ['*'])}"
                f" tools={','.join(record.get('tools') or ['all'])}"
                + (f" confirm={';'.join(record['confirm'])}" if record.get("confirm") else "")
                + f"  {_client_state(record)}"
            )

    rt.emit(rt.call("client.list"), show)


@client.command("revoke")
@click.argument("name")
@json_option
def client_revoke(name: str) -> None:
    """Revoke client NAME now: its next call is refused and its sessions are closed."""
    from ..mcp.install import token_path

    rt = runtime()
    reply = rt.call("client.revoke", name=name)
    token_path(rt.paths, name).unlink(missing_ok=True)
    closed = reply.get("closed_sessions", [])
    rt.emit(
        reply,
        lambda _: click.echo(
            f"Revoked client {name}; closed {len(closed)} session(s)"
            + (f": {', '.join(closed)}" if closed else "")
            + "."
        ),
    )


def _audit_line(record: dict[str, Any]) -> str:
    where = " ".join(str(record[key]) for key in ("asset", "account", "session") if record.get(key))
    what = record.get("action", "?")
    detail = ""
    if record.get("command") is not None:
        detail = f" $ {record['command']}"
    if what == "run.end":
        detail = (
            f" {record.get('state')} exit={record.get('exit_status')}"
            f" {record.get('duration_s', 0):.1f}s {record.get('bytes_out', 0)}B"
        )
    if record.get("target"):
        detail += f" {record['target']}"
    return f"{_when(record.get('time'))}  {record.get('client', '?'):14} {what:14} {where}{detail}"


@click.command()
@click.option("--client", "client_name", help="Only this client's actions (human: you).")
@click.option("--asset", help="Only actions on this asset.")
@click.option("--since", help="Only since then: 1h, 2d, an ISO time or a unix time.")
@click.option("--limit", type=click.IntRange(1), help="At most the newest N records.")
@click.option("--follow", "-f", is_flag=True, help="Then print new records as they come.")
@json_option
def audit(
    client_name: str | None, asset: str | None, since: str | None, limit: int | None, follow: bool
) -> None:
    """Show what agents and you did: sessions opened, commands run, exit statuses."""
    import json

    rt = runtime()
    params: dict[str, Any] = {
        "client": client_name,
        "asset": asset,
        "since": parse_since(since) if since else None,
        "limit": limit,
    }
    if not follow:
        reply = rt.call("audit.query", **params)
        rt.emit(reply, lambda data: click.echo("\n".join(map(_audit_line, data["records"]))))
        return
    try:
        for record in rt.client().stream("audit.query", follow=True, **params):
            click.echo(json.dumps(record, sort_keys=True) if rt.json else _audit_line(record))
    except KeyboardInterrupt:
        pass


__all__ = ["audit", "client", "parse_duration", "parse_since"]
