"""Terminal sessions: exec, shell, attach, sessions, kill, rename, screen, logs, wait, interrupt."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from jsctl_protocol import FLEET_HANDLE_PREFIX, MAX_STDIN_BYTES, ErrorCode, RpcError

from ..rpc import DaemonClient
from ._app import fail, json_option, runtime
from ._render import Crlf, age, table, write_bytes
from ._types import TableNumber

EXIT_TIMEOUT, EXIT_INTERRUPTED, EXIT_LOST = 124, 130, 255
EXIT_WAITING = 125  # the command stopped at a prompt (password, [y/N], a pager) and was interrupted

profile_option = click.option("--profile", "-p", help="Profile (default: the default one).")
account_option = click.option("--account", "-a", help="Account name, username or alias.")


def _exit_code(run: dict[str, Any]) -> int:
    state = run["state"]
    if run.get("note") and run.get("shell_ended"):
        click.echo(f"jsctl: {run['note']}", err=True)
    if state == "done":
        return int(run["exit_status"] if run["exit_status"] is not None else EXIT_LOST)
    if state == "timeout":
        click.echo(
            f"jsctl: the command timed out and was interrupted (Ctrl-C); session "
            f"{run['session']} is usable again",
            err=True,
        )
        return EXIT_TIMEOUT
    if state == "interrupted":
        return EXIT_INTERRUPTED
    click.echo(
        f"jsctl: the run ended without an exit status ({run['state']}): "
        f"{run.get('note') or 'the session was lost'}",
        err=True,
    )
    return EXIT_LOST


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("ref", required=False)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@account_option
@profile_option
@click.option("--session", "-s", help="Run in this session (id or name) instead of REF's.")
@click.option(
    "--timeout",
    type=TableNumber("run.start", "timeout"),
    help="Interrupt (Ctrl-C) after this many seconds.",
)
@click.option("--detach", "-d", is_flag=True, help="Start and print a handle; don't wait.")
@click.option(
    "--tty", "-t", is_flag=True,
    help="The terminal is the command's input; stdout and stderr come as one stream.",
)  # fmt: skip
@click.option("--no-stdin", "-n", is_flag=True, help="Don't pass this process's standard input on.")
@click.option(
    "--stdin", "-i", "forward_stdin", is_flag=True,
    help="Pass standard input on even from a terminal (read to its end first).",
)  # fmt: skip
@click.option("--request-id", help="Idempotency key: a retry returns the first run's result.")
@click.option("--node", help="Many assets: every one under this node (with its subtree).")
@click.option("--parallel", "-P", type=click.IntRange(1, 256), help="Many assets: runs at once.")
@click.option("--dry-run", is_flag=True, help="Many assets: only list those it would run on.")
@click.option("--yes", "-y", is_flag=True, help="Many assets: confirm a large selection.")
@click.option("--prefix", is_flag=True, help="Many assets: stream lines as `ASSET: line`.")
@click.option("--group", "-g", is_flag=True, help="Many assets: collapse identical outputs.")
@json_option
def exec_(
    ref: str | None,
    command: tuple[str, ...],
    account: str | None,
    profile: str | None,
    session: str | None,
    timeout: float | None,
    detach: bool,
    tty: bool,
    no_stdin: bool,
    forward_stdin: bool,
    request_id: str | None,
    node: str | None,
    parallel: int | None,
    dry_run: bool,
    yes: bool,
    prefix: bool,
    group: bool,
) -> None:
    """Run COMMAND on asset REF (or on many) as `ssh REF COMMAND` would, with its exit status.

    \b
    jsctl exec web-03 -- systemctl is-active nginx
    echo hi | jsctl exec web-03 -- 'cat > /tmp/hi.txt'
    jsctl exec web-03 -- 'cat /etc/app.conf' 2>errors.txt
    jsctl exec 'web-*' --group -- systemctl is-active nginx
    jsctl exec --node /Default/web --dry-run -- uptime
    The command runs in a child shell (as "$SHELL -c" would), in a session of exec's own on
    the asset (never one a person or an agent uses): `exit 3` gives 3, and nothing carries
    over between calls. Standard input from a pipe or file reaches it (up to 1 MiB; -n:
    none; larger files go with `jsctl cp`); stdout and stderr arrive apart (-t: one
    terminal stream). Pagers are off (PAGER=cat ...). On --timeout the command is
    interrupted and jsctl exits 124; if it stops at a prompt (a password, [y/N], a
    pager) it is interrupted within about 2 s and jsctl exits 125.

    \b
    Many assets: REF may be a glob over names/addresses ('web-*'), a list (web-01,db-01),
    and/or --node PATH. Runs go side by side (--parallel, default from the config), each
    with its own --timeout; one failing asset never stops the others. Exit status: 0 when
    every asset exited 0, 4 when some failed or timed out, 5 when some were unreachable,
    130 on Ctrl-C (which interrupts them all). --json prints one JSON line per asset.
    """
    from .._selector import is_selector, split_selector

    many = node is not None or (ref is not None and is_selector(ref))
    if ref is not None and (session or node) and not (node and is_selector(ref) and command):
        command, ref = (ref, *command), None  # with --session/--node, REF is the command's start
    if not command:
        raise click.UsageError("say what to run: jsctl exec REF -- COMMAND")
    if many:
        if session or forward_stdin or request_id or tty:
            raise click.UsageError(
                "--session, --stdin, --tty and --request-id take one asset, not many"
            )
        from .fleet_cmds import run_fleet

        rt = runtime()
        fleet = {
            "command": " ".join(command),
            "assets": split_selector(ref) if ref else None,
            "node": node,
            "account": account,
            "profile": profile,
            "timeout": timeout,
            "parallel": parallel,
        }
        run_fleet(rt, fleet, dry_run=dry_run, yes=yes, detach=detach,
                  prefix=prefix and not rt.json, group=group)  # fmt: skip
    if dry_run or prefix or group or parallel:
        raise click.UsageError("--dry-run, --prefix, --group and --parallel are for many assets")
    if not ref and not session:
        raise click.UsageError("say where to run: an asset REF or --session ID")
    if no_stdin and forward_stdin:
        raise click.UsageError("-n (no input) and --stdin contradict each other")
    rt = runtime()
    piped = sys.stdin is not None and not sys.stdin.isatty()
    read_stdin = forward_stdin or (not no_stdin and piped)
    params: dict[str, Any] = {
        "command": " ".join(command),
        "asset": ref if not session else None,
        "session": session,
        "account": account,
        "profile": profile,
        "timeout": timeout,
        "tty": tty or None,
        "request_id": request_id or (None if detach else os.urandom(16).hex()),
        "stdin": (_read_stdin() or None) if read_stdin else None,
    }
    client = rt.client()
    if detach:
        run = client.call("run.start", **params, wait=0.0)
        rt.emit(
            {"handle": run["handle"], "session": run["session"], "state": run["state"]},
            lambda r: click.echo(r["handle"]),
        )
        return
    sys.exit(_stream_run(rt, client, params))


def _read_stdin() -> bytes:
    try:
        data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    except (OSError, ValueError):  # closed or not readable: as ssh, no input then
        return b""
    if len(data) > MAX_STDIN_BYTES:
        raise click.UsageError(
            "exec passes at most 1 MiB of standard input; copy larger files with `jsctl cp`"
            " and redirect from them, or give -n to pass none"
        )
    return data


def _interrupt(rt: Any, handle: str) -> None:
    with DaemonClient.connect(rt.paths, autostart=False) as interrupter:
        interrupter.call("run.interrupt", target=handle)  # this run only; output goes on


def _stream_run(rt: Any, client: DaemonClient, params: dict[str, Any]) -> int:
    stream = client.stream("run.start", **params, stream=True)
    crlf = Crlf()
    handle = None
    waiting: str | None = None
    collected: list[bytes] = []
    while True:  # a fresh pass over the stream resumes it after a Ctrl-C
        try:
            for item in stream:
                if "handle" in item:
                    handle = item["handle"]
                elif "awaiting_approval" in item:  # a rule of this client holds the command
                    click.echo(f"jsctl: waiting: {item['message']}", err=True)
                elif "waiting_input" in item:
                    waiting = str(item["waiting_input"])
                    click.echo(
                        f"\njsctl: the command is waiting for input at {waiting!r}; exec cannot"
                        " answer it, so it is interrupted (exit 125) — pass the answer on"
                        " standard input, use a non-interactive option, or `jsctl shell`",
                        err=True,
                    )
                    if handle is not None:
                        _interrupt(rt, handle)
                elif rt.json:
                    collected.append(item["data"])
                else:
                    write_bytes(crlf.feed(item["data"]))
            break
        except KeyboardInterrupt:
            if handle is None:
                raise
            _interrupt(rt, handle)
    run = stream.result
    stderr = Crlf().feed(run.get("stderr") or b"")
    if rt.json:
        output = Crlf().feed(b"".join(collected))
        rt.emit(
            {
                **run,
                "output": output.decode(errors="replace"),
                "stderr": stderr.decode(errors="replace"),
                "waiting_input": waiting,
            }
        )
    else:
        write_bytes(crlf.flush())
        if stderr:
            sys.stderr.buffer.write(stderr)
            sys.stderr.buffer.flush()
    if waiting is not None and run["state"] != "done":
        return EXIT_WAITING
    return _exit_code(run)


def _as(session: dict[str, Any]) -> str:
    """The account, and the user the shell runs as now if that differs (after sudo -i, su -)."""
    account = str(session["account"])
    user = str(session.get("effective_user") or account)
    return account + (f" → {user}" if user != account else "")


@click.command()
@click.argument("handle")
@click.option(
    "--timeout",
    "-t",
    type=TableNumber("run.wait", "timeout"),
    help="Give up waiting after this many seconds.",
)
@json_option
def wait(handle: str, timeout: float | None) -> None:
    """Wait for a detached run (or fleet, or FLEET/ASSET) to finish; exit with its status."""
    rt = runtime()
    if handle.startswith(FLEET_HANDLE_PREFIX):
        from .fleet_cmds import fleet_wait

        fleet_wait(rt, handle, timeout)
    run = rt.call("run.wait", handle=handle, timeout=timeout)["run"]
    if run["state"] == "running":
        rt.emit(run, lambda r: click.echo(f"still running: {r['handle']}", err=True))
        sys.exit(EXIT_TIMEOUT)
    rt.emit(run, lambda r: None)
    sys.exit(_exit_code(run))


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


def _attach(session_id: str, read_only: bool) -> None:
    from ._terminal import HELP, interactive

    rt = runtime()
    click.echo(
        f"[jsctl: attached to {session_id}{' read-only' if read_only else ''}; {HELP}]", err=True
    )
    how, final = interactive(rt.paths, session_id, read_only)
    if how == "detached":
        click.echo(
            f"\r\n[jsctl: detached; the session keeps running — `jsctl attach {session_id}`]",
            err=True,
        )
    else:
        reason = (final or {}).get("reason") or "the session ended"
        click.echo(f"\r\n[jsctl: session {session_id} ended: {reason}]", err=True)


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
    """Reattach to a session, showing recent output first (detach with Ctrl-] d)."""
    rt = runtime()
    info = rt.call("session.get", session=session)["session"]
    if info["state"] in ("closed", "lost"):
        fail(
            f"session {info['id']} has ended ({info['reason']}); `jsctl logs {info['id']}` "
            "shows what it printed"
        )
    _attach(info["id"], read_only)


SERVER_IDLE_WARN_S = 300  # say so when KoKo's idle cut-off is this close


def _state(session: dict[str, Any]) -> str:
    """State, why it ended, paused, and KoKo's idle cut-off when it is close."""
    text = str(session["state"]) + (f" ({session['reason']})" if session["reason"] else "")
    if session.get("paused"):
        who = f" by {session['paused_by']}" if session.get("paused_by") else ""
        text += f", paused{who}: input is dropped"
    idle_at = session.get("server_idle_at")
    if idle_at is not None and idle_at - time.time() < SERVER_IDLE_WARN_S:
        left = max(0, round(idle_at - time.time()))
        text += f", KoKo ends it for idleness in ~{left} s unless something is typed or printed"
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
        server_idle = limits.get("server_idle_timeout_s")
        if server_idle:
            click.echo(
                f"KoKo ends a session after {server_idle / 60:g} min without input, output or "
                "resize (its default SECURITY_MAX_IDLE_TIME; your administrator may differ)"
            )

    rt.emit(data, show)


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
