"""Runs: `jsctl exec` (one asset or many) and `jsctl wait`, with the command's own exit status."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from jsctl_protocol import FLEET_HANDLE_PREFIX, MAX_STDIN_BYTES

from ..rpc import DaemonClient
from ._app import json_option, runtime
from ._render import Crlf, write_bytes
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
