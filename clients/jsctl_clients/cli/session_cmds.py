"""Terminal sessions: shell, attach, sessions, kill, rename, screen, logs, interrupt."""

from __future__ import annotations

import time
from typing import Any

import click

from jsctl_protocol import FLEET_HANDLE_PREFIX, ErrorCode, RpcError

from ..rpc import DaemonClient
from ._app import fail, json_option, runtime
from ._render import age, table, write_bytes
from ._types import TableNumber
from .run_cmds import account_option, profile_option


def _as(session: dict[str, Any]) -> str:
    """The account, and the user the shell runs as now if that differs (after sudo -i, su -)."""
    account = str(session["account"])
    user = str(session.get("effective_user") or account)
    return account + (f" → {user}" if user != account else "")


def _is_run(client: DaemonClient, target: str) -> bool:
    try:
        client.call("run.get", handle=target)
    except RpcError as exc:
        if exc.code == ErrorCode.NOT_FOUND:
            return False
        raise
    return True


@click.command()
@click.argument("target")
@click.option("--from", "offset", type=int, help="Absolute byte offset to start from.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output.")
@json_option
def logs(target: str, offset: int | None, follow: bool) -> None:
    """Print a session's output (or a run's, a fleet's, FLEET/ASSET's) from an offset."""
    rt = runtime()
    if target.startswith(FLEET_HANDLE_PREFIX):
        from .fleet_cmds import fleet_logs

        fleet_logs(rt, target, wait_for_end=follow)
        return
    client = rt.client()
    run = _is_run(client, target)
    method, key = ("run.read", "handle") if run else ("session.read", "session")
    while True:
        page = client.call(method, **{key: target}, offset=offset, wait=30.0 if follow else None)
        if page["missed"]:
            click.echo(
                f"jsctl: {page['missed']} bytes before offset {page['offset'] + page['missed']}"
                " are no longer buffered",
                err=True,
            )
        if rt.json:
            rt.emit({**page, "data": page["data"].decode(errors="replace")})
        elif page["data"]:
            write_bytes(page["data"])
        offset = page["next_offset"]
        ended = page["state"] not in ("live", "starting", "running")
        if not page["data"] and (ended or not follow):
            break


@click.command()
@click.argument("target")
@json_option
def interrupt(target: str) -> None:
    """Send Ctrl-C to a run (by handle), every run of a fleet, or a session's foreground."""
    rt = runtime()
    if target.startswith(FLEET_HANDLE_PREFIX):
        hit = rt.call("fleet.interrupt", handle=target)
        rt.emit(hit, lambda r: click.echo(f"interrupted: {', '.join(r['interrupted']) or 'none'}"))
        return
    rt.emit(rt.call("run.interrupt", target=target), lambda _: click.echo("interrupt sent"))


def _attach(session_id: str, read_only: bool, label: str = "") -> None:
    from ._terminal import HELP, interactive

    rt = runtime()
    click.echo(
        f"[jsctl: attached to {label or session_id}{' read-only' if read_only else ''}; {HELP}]",
        err=True,
    )
    how, final = interactive(rt.paths, session_id, read_only)
    if how == "detached":
        again = "a new link to return" if label else f"`jsctl attach {session_id}`"
        click.echo(f"\r\n[jsctl: detached; the session keeps running — {again}]", err=True)
    else:
        reason = (final or {}).get("reason") or "the session ended"
        click.echo(f"\r\n[jsctl: {label or f'session {session_id}'} ended: {reason}]", err=True)


@click.command()
@click.argument("ref")
@account_option
@profile_option
@click.option("--name", "-n", help="Name the session to find it again.")
def shell(ref: str, account: str | None, profile: str | None, name: str | None) -> None:
    """Open an interactive terminal on asset REF (detach with Ctrl-] d)."""
    rt = runtime()
    import shutil

    size = shutil.get_terminal_size()
    opened = rt.call(
        "session.open",
        asset=ref,
        account=account,
        profile=profile,
        name=name,
        cols=size.columns,
        rows=size.lines,
    )["session"]
    _attach(opened["id"], read_only=False)


@click.command()
@click.argument("session")
@click.option("--read-only", "-r", is_flag=True, help="Watch only: keystrokes are not sent.")
def attach(session: str, read_only: bool) -> None:
    """Reattach to a session, showing recent output first (detach with Ctrl-] d).

    SESSION may be a watch link from `jsctl share` (read-only, usable once)."""
    from jsctl_protocol._methods_sessions import WATCH_LINK_PREFIX

    if session.startswith(WATCH_LINK_PREFIX):
        _attach(session, read_only=True, label="a shared session")
        return
    rt = runtime()
    info = rt.call("session.get", session=session)["session"]
    if info["state"] in ("closed", "lost"):
        fail(
            f"session {info['id']} has ended ({info['reason']}); `jsctl logs {info['id']}` "
            "shows what it printed"
        )
    _attach(info["id"], read_only)


def _state(session: dict[str, Any]) -> str:
    """State, why it ended, paused, and KoKo's idle cut-off when it is close."""
    text = str(session["state"]) + (f" ({session['reason']})" if session["reason"] else "")
    if session.get("paused"):
        who = f" by {session['paused_by']}" if session.get("paused_by") else ""
        text += f", paused{who}: input is dropped"
    if session.get("server_idle_warning"):  # the daemon says when KoKo's cut-off is near
        text += f"; {session['server_idle_warning']}"
    return text


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include ended sessions.")
@json_option
def sessions(show_all: bool) -> None:
    """List sessions with their state, owner, attachments and limits."""
    rt = runtime()
    data = rt.call("session.list", all=show_all)

    def show(listing: dict[str, Any]) -> None:
        rows = [
            [
                s["id"],
                s["name"] or "",
                s["asset"],
                _as(s),
                s["owner"],
                _state(s),
                age(s["created_at"]),
                age(s["last_activity_at"]),
                len(s["attachments"]),
                s["end_offset"],
            ]
            for s in listing["sessions"]
        ]
        _show_lost(listing.get("lost") or [], show_all)
        if not rows:
            click.echo("no sessions — start one with `jsctl shell ASSET` or `jsctl exec`")
            return
        table(
            ["id", "name", "asset", "account", "owner", "state", "age", "idle", "att", "bytes"],
            rows,
        )
        limits = listing["limits"]
        click.echo(
            f"limits: {limits['max_per_profile'] or '∞'} per profile, "
            f"{limits['max_per_owner'] or '∞'} per client, idle timeout "
            f"{limits['idle_timeout_s'] or 'none'} s, buffer {limits['buffer_bytes']} B"
        )
        click.echo(_server_idle_line(listing["sessions"], limits))

    rt.emit(data, show)


def _server_idle_line(sessions: list[dict[str, Any]], limits: dict[str, Any]) -> str:
    """KoKo's idle limit: as the server says it (SECURITY_MAX_IDLE_TIME), else its default."""
    told = sorted(
        {s["server_idle_timeout_s"] for s in sessions if s.get("server_idle_known")} - {None}
    )
    if told:
        said = " / ".join(f"{value / 60:g}" for value in told)
        return (
            f"KoKo ends a session after {said} min without input, output or resize (the "
            "server's SECURITY_MAX_IDLE_TIME)"
        )
    assumed = limits.get("server_idle_timeout_s")
    if not assumed:
        return "KoKo's idle limit is unknown"
    return (
        f"KoKo ends a session after {assumed / 60:g} min without input, output or resize (its "
        "default SECURITY_MAX_IDLE_TIME; the server's own could not be read)"
    )


LOST_RECENT_S = 86400  # lost sessions older than this show with --all only


def _show_lost(lost: list[dict[str, Any]], show_all: bool) -> None:
    """Sessions an earlier daemon lost: said before the live ones, never silently dropped."""
    now = time.time()
    recent = [r for r in lost if show_all or now - float(r.get("lost_at", 0)) < LOST_RECENT_S]
    if not recent:
        return
    click.echo(f"lost when an earlier daemon stopped ({len(recent)}):", err=True)
    for record in recent:
        name = f" ({record['name']})" if record.get("name") else ""
        run = record.get("run") or {}
        running = f", was running `{run['command']}`" if run.get("command") else ""
        click.echo(
            f"  {record['id']}{name} {record.get('account')}@{record.get('asset')}: "
            f"{record.get('reason')}, {age(float(record.get('lost_at', now)))} ago{running}",
            err=True,
        )


@click.command()
@click.argument("sessions_", metavar="SESSION...", nargs=-1, required=True)
@json_option
def kill(sessions_: tuple[str, ...]) -> None:
    """End sessions now."""
    rt = runtime()
    result = rt.call("session.kill", sessions=list(sessions_))
    rt.emit(result, _print_killed)


def _print_killed(result: dict[str, Any]) -> None:
    for killed in result["killed"]:
        click.echo(f"killed {killed['id']}")


@click.command()
@click.argument("session")
@click.argument("name")
@json_option
def rename(session: str, name: str) -> None:
    """Give SESSION a NAME (use it anywhere an id goes)."""
    rt = runtime()
    rt.emit(
        rt.call("session.rename", session=session, name=name),
        lambda r: click.echo(f"{r['session']['id']} is now {r['session']['name']}"),
    )


@click.command()
@click.argument("session")
@json_option
def screen(session: str) -> None:
    """Show what a person would see on SESSION's screen now (full-screen programs too)."""
    rt = runtime()
    rt.emit(rt.call("session.screen", session=session), lambda r: click.echo(r["text"]))


@click.command()
@click.argument("session")
@click.option(
    "--expires",
    "-e",
    type=TableNumber("session.share", "expires"),
    help="Seconds the link may be used in (default 600).",
)
@json_option
def share(session: str, expires: float | None) -> None:
    """Print a one-time link another local client uses to watch SESSION read-only.

    Give it to someone (or an agent allowed the asset) on this machine, as this user: they run
    `jsctl attach --read-only LINK`. It works once, until it expires; `jsctl audit` shows both.
    """
    rt = runtime()
    reply = rt.call("session.share", session=session, expires=expires)

    def show(r: dict[str, Any]) -> None:
        minutes = max(1, round((r["expires_at"] - time.time()) / 60))
        click.echo(
            f"watch link for session {r['session']} ({r['asset']}): read-only, usable once, "
            f"within {minutes} min:"
        )
        click.echo(f"  {r['command']}")

    rt.emit(reply, show)
