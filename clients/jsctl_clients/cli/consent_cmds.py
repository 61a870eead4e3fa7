"""`jsctl approvals`, `jsctl approve` and `jsctl deny`: the person decides agents' held calls.

Approving takes a fresh code from the person's authenticator, which the daemon has the
JumpServer server verify (its confirm API): an agent with a shell as the same user can run
`jsctl approve` too, but without the person's second factor it cannot make it succeed.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from typing import Any

import click

from ._app import fail, json_option, runtime
from ._render import age, table


def _ids(values: tuple[str, ...]) -> list[str]:
    return [value if value.startswith("ap-") else f"ap-{value}" for value in values]


def _line(approval: dict[str, Any]) -> str:
    return (
        f"{approval['id']}  {approval['client']} wants to {approval['kind']} "
        f"`{approval['command']}` on {approval['asset']} as {approval['account']}"
        f" ({age(approval['created_at'])} ago, rule `{approval['rule']}`)"
    )


def _show(approvals: list[dict[str, Any]]) -> None:
    if not approvals:
        click.echo("no approval requests are waiting")
        return
    rows = [
        (
            a["id"],
            age(a["created_at"]),
            a["client"],
            a["kind"],
            a["asset"],
            a["account"],
            a["state"] if a["state"] != "pending" else "",
            a["command"],
        )
        for a in approvals
    ]
    table(("id", "age", "client", "kind", "asset", "account", "state", "command"), rows)


def _change(approval: dict[str, Any]) -> str:
    if approval["state"] == "pending":
        return "new: " + _line(approval)
    who = f" by {approval['decided_by']} ({approval['channel']})" if approval["decided_by"] else ""
    reason = f": {approval['reason']}" if approval.get("reason") else ""
    done = " — failed: " + approval["error"] if approval.get("error") else ""
    return f"{approval['id']} {approval['state']}{who}{reason}{done}"


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Also requests already decided.")
@click.option("--follow", "-f", is_flag=True, help="Then print new requests and decisions.")
@json_option
def approvals(show_all: bool, follow: bool) -> None:
    """List agents' calls waiting for your approval (client, asset, account, command, age)."""
    rt = runtime()
    if not follow:
        reply = rt.call("approval.list", all=show_all)
        rt.emit(reply, lambda data: _show(data["approvals"]))
        return
    try:
        for item in rt.client().stream("approval.list", follow=True, all=show_all):
            click.echo(json.dumps(item, sort_keys=True) if rt.json else _change(item))
    except KeyboardInterrupt:
        pass


def _code(otp_command: str | None, profile_hint: str) -> str:
    if otp_command:
        result = subprocess.run(shlex.split(otp_command), capture_output=True, text=True)
        if result.returncode != 0 or not result.stdout.strip():
            fail(f"--otp-command failed (exit {result.returncode}): {result.stderr.strip()}")
        return result.stdout.strip()
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if not line:
            fail("approving needs a code from your authenticator; standard input had none")
        return line
    return str(
        click.prompt(f"Code from your authenticator ({profile_hint})", hide_input=True, err=True)
    ).strip()


def _show_decided(data: dict[str, Any]) -> None:
    for approval in data["approvals"]:
        click.echo(_change(approval))


@click.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--otp-command", help="Command that prints your current MFA code.")
@click.option("--reason", help="A note recorded with the decision.")
@json_option
def approve(ids: tuple[str, ...], otp_command: str | None, reason: str | None) -> None:
    """Approve held requests IDS with a fresh code from your authenticator.

    The code is read from --otp-command, else standard input when it is not a terminal, else a
    hidden prompt, and JumpServer itself checks it. One code approves several requests at once;
    a code is accepted only once, and a few wrong codes lock approvals for a while.
    """
    rt = runtime()
    wanted = _ids(ids)
    known = {a["id"]: a for a in rt.call("approval.list", all=True)["approvals"]}
    missing = [i for i in wanted if i not in known]
    if missing:
        fail(f"no approval request {', '.join(missing)} — `jsctl approvals` lists them")
    for approval_id in wanted:
        click.echo("Approve " + _line(known[approval_id]), err=True)
    profiles = sorted({known[i]["profile"] for i in wanted})
    code = _code(otp_command, ", ".join(profiles))
    reply = rt.call("approval.decide", ids=wanted, approve=True, code=code, reason=reason)
    rt.emit(reply, _show_decided)


@click.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", help="Why (the agent is told).")
@json_option
def deny(ids: tuple[str, ...], reason: str | None) -> None:
    """Deny held requests IDS (no code needed: refusing is always safe)."""
    rt = runtime()
    reply = rt.call("approval.decide", ids=_ids(ids), approve=False, reason=reason)
    rt.emit(reply, _show_decided)


def _secret_from(command: str | None) -> str:
    if command:
        result = subprocess.run(shlex.split(command), capture_output=True, text=True)
        lines = result.stdout.splitlines()
        if result.returncode != 0 or not lines or not lines[0]:
            fail(f"--from-command failed (exit {result.returncode}) or printed nothing")
        return lines[0]  # `pass show` and friends print the secret on the first line
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("no secret on standard input")
        return line
    return str(
        click.prompt("Secret (not shown, sent only to the remote)", hide_input=True, err=True)
    )


@click.command()
@click.argument("session")
@click.option(
    "--from-command",
    help="Take the secret from this command's first line (a password manager: `pass show x`).",
)
@click.option("--force", is_flag=True, help="Send even if no password prompt is recognised.")
@json_option
def secret(session: str, from_command: str | None, force: bool) -> None:
    """Answer SESSION's password prompt (sudo, su, ssh, ...) without the agent seeing it.

    The secret comes from --from-command, else standard input when it is not a terminal, else a
    hidden prompt. It is typed to the remote terminal only: never kept in jsctl's output buffer,
    recordings, audit log or logs, and never shown to agents.
    """
    rt = runtime()
    info = rt.call("session.get", session=session)["session"]
    prompt = info.get("waiting_secret")
    if prompt:
        click.echo(f"{info['id']} ({info['asset']} as {info['account']}) asks: {prompt}", err=True)
    elif not force:
        fail(
            f"session {info['id']} is not at a password prompt; look with `jsctl screen "
            f"{info['id']}` (--force sends anyway)"
        )
    value = _secret_from(from_command)
    reply = rt.call("secret.send", session=info["id"], secret=value, force=force or None)
    del value

    def show(data: dict[str, Any]) -> None:
        click.echo(
            f"Sent to {data['session']}."
            + (
                " The terminal echoed it; the echo was removed from jsctl's output."
                if data["echoed"]
                else ""
            )
            + _LIVE_NOTE.get(data.get("live"), "")
        )

    rt.emit(reply, show)


_LIVE_NOTE: dict[object, str] = {  # after a secret KoKo asked before connecting
    True: " The session is live.",
    False: " The session is not live yet: look with `jsctl screen`.",
}

__all__ = ["approvals", "approve", "deny", "secret"]
