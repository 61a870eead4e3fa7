"""`jsctl ping`, `jsctl paths` and `jsctl daemon start|stop|status|restart`."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pathlib import Path

from ..rpc import DaemonClient, DaemonUnreachable, start_daemon
from ._app import EXIT_UNREACHABLE, LazyGroup, fail, json_option, runtime


@click.command()
@json_option
def ping() -> None:
    """Check that the daemon answers (starting it if needed)."""
    rt = runtime()
    started = time.perf_counter()
    answer = rt.call("ping")
    answer["round_trip_ms"] = round((time.perf_counter() - started) * 1000, 3)
    rt.emit(answer, lambda a: click.echo(f"pong ({a['round_trip_ms']} ms)"))


@click.command()
@json_option
def paths() -> None:
    """Show where jsctl keeps its socket, state, config and logs."""
    rt = runtime()
    rt.emit(rt.paths.as_dict(), _print_pairs)


def _print_pairs(pairs: dict[str, Any]) -> None:
    for key, value in pairs.items():
        click.echo(f"{key:12} {value}")


@click.group(
    cls=LazyGroup,
    lazy={  # service units pull in plistlib and friends: load them only when asked for
        "install": ("service_cmds", "install", "Write user-service units (systemd/launchd)."),
        "uninstall": ("service_cmds", "uninstall", "Remove the user-service units."),
    },
)
def daemon() -> None:
    """Start, stop, restart or inspect the per-user daemon."""


def _running_client() -> DaemonClient | None:
    try:
        return DaemonClient.connect(runtime().paths, autostart=False)
    except DaemonUnreachable:
        return None


def _print_status(status: dict[str, Any]) -> None:
    click.echo(f"jsctl daemon {status['version']} running, pid {status['pid']}")
    click.echo(f"  uptime   {status['uptime_s']:.0f} s")
    click.echo(f"  memory   {status['rss_bytes'] / 1048576:.1f} MiB RSS")
    click.echo(f"  clients  {status['clients']}")
    if "sessions" in status:
        click.echo(f"  sessions {status['sessions']}")
    click.echo(f"  socket   {status['socket']}")
    click.echo(f"  log      {status['log_file']}")


@daemon.command()
@click.option("--foreground", is_flag=True, help="Run in this terminal, logging to stderr too.")
@json_option
def start(foreground: bool) -> None:
    """Start the daemon (it also starts by itself when a command needs it)."""
    rt = runtime()
    if foreground:
        os.execv(
            sys.executable,
            [sys.executable, "-m", "jsctl_daemon", "--stderr", "--socket", str(rt.paths.socket)],
        )
    client = _running_client()
    was_running = client is not None
    if client is None:
        start_daemon(rt.paths).close()
        client = DaemonClient.connect(rt.paths, autostart=False)
    with client:
        status = client.call("daemon.status")
    status["already_running"] = was_running
    rt.emit(status, _print_status)


def _daemon_holds_lock(lock_file: Path) -> bool:
    """True while a daemon holds its lock (a socket-activated one leaves the socket in place)."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops our probe's shared lock at once
    return False


@daemon.command()
@json_option
def stop() -> None:
    """Stop the daemon; its terminal sessions end."""
    rt = runtime()
    client = _running_client()
    if client is None:
        rt.emit({"stopped": False, "running": False}, lambda _: click.echo("daemon not running"))
        return
    with client:
        pid = client.hello.get("pid")
        client.call("daemon.shutdown")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _daemon_holds_lock(rt.paths.lock_file):
        time.sleep(0.02)
    if _daemon_holds_lock(rt.paths.lock_file):
        fail(f"the daemon (pid {pid}) did not stop within 15 s; see {rt.paths.log_file}")
    rt.emit({"stopped": True, "pid": pid}, lambda _: click.echo(f"daemon (pid {pid}) stopped"))


@daemon.command()
@click.option("--no-start", is_flag=True, help="Do not start the daemon if it is not running.")
@json_option
def status(no_start: bool) -> None:
    """Show the daemon's pid, uptime, memory, clients and sessions."""
    rt = runtime()
    try:
        info = rt.client(autostart=not no_start).call("daemon.status")
    except DaemonUnreachable as exc:
        if rt.json:
            rt.emit({"running": False, "error": str(exc)})
            sys.exit(EXIT_UNREACHABLE)
        raise
    rt.emit(info, _print_status)


@daemon.command()
@click.pass_context
def restart(ctx: click.Context) -> None:
    """Stop the daemon if it runs, then start it."""
    ctx.invoke(stop)
    ctx.invoke(start)
