"""`jsctl daemon install|uninstall`: run the daemon as a systemd user service or a LaunchAgent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from .._service_units import (
    SERVICE_UNIT,
    SOCKET_UNIT,
    ServiceSettings,
    launchd_file_name,
    launchd_plist,
    systemd_units,
)
from ._app import fail, json_option, runtime

_manager_option = click.option(
    "--systemd/--launchd",
    "use_systemd",
    default=sys.platform != "darwin",
    show_default="systemd on Linux, launchd on macOS",
    help="Which service manager to write for.",
)


def _systemd_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def _launchd_dir() -> Path:
    return Path.home() / "Library" / "LaunchAgents"


def _files(use_systemd: bool) -> dict[Path, bytes]:
    """Where each unit goes and what it holds, for this installation and environment."""
    settings = ServiceSettings.current(systemd=use_systemd)
    if use_systemd:
        units = systemd_units(settings)
        return {_systemd_dir() / name: text.encode() for name, text in units.items()}
    return {_launchd_dir() / launchd_file_name(): launchd_plist(settings)}


def _enable_commands(use_systemd: bool, files: dict[Path, bytes]) -> list[list[str]]:
    if use_systemd:
        return [
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", SOCKET_UNIT],
        ]
    return [["launchctl", "bootstrap", f"gui/{os.getuid()}", str(next(iter(files)))]]


def _disable_commands(use_systemd: bool, files: dict[Path, bytes]) -> list[list[str]]:
    if use_systemd:
        return [
            ["systemctl", "--user", "disable", "--now", SOCKET_UNIT, SERVICE_UNIT],
            ["systemctl", "--user", "daemon-reload"],
        ]
    return [["launchctl", "bootout", f"gui/{os.getuid()}", str(next(iter(files)))]]


def _run(command: list[str]) -> tuple[bool, str]:
    """Run a service manager command; (ok, what it said)."""
    if shutil.which(command[0]) is None:
        return False, f"{command[0]} not found"
    done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return done.returncode == 0, (done.stderr or done.stdout).strip()


@click.command()
@_manager_option
@click.option("--dry-run", is_flag=True, help="Print the files instead of writing them.")
@click.option("--enable", is_flag=True, help="Also stop a running daemon and enable the service.")
@json_option
def install(use_systemd: bool, dry_run: bool, enable: bool) -> None:
    """Write the daemon's service files (socket activation) into your user service directory."""
    rt = runtime()
    files = _files(use_systemd)
    commands = _enable_commands(use_systemd, files)
    shown = " && ".join(" ".join(command) for command in commands)
    if dry_run:
        for path, content in files.items():
            click.echo(f"# {path}")
            click.echo(content.decode(), nl=False)
        return
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    if not use_systemd:  # launchd binds the socket itself and does not create its directory
        rt.paths.runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    report: dict[str, Any] = {"files": [str(p) for p in files], "enabled": False, "next": shown}
    if enable:
        _stop_running_daemon()
        for command in commands:
            ok, said = _run(command)
            if not ok:
                fail(f"`{' '.join(command)}` failed: {said}; the files are written, run: {shown}")
        report["enabled"] = True
    rt.emit(report, _print_installed)


def _print_installed(report: dict[str, Any]) -> None:
    for path in report["files"]:
        click.echo(f"wrote {path}")
    if report["enabled"]:
        click.echo("enabled: the service manager now starts the daemon on demand")
    else:
        click.echo("stop a running daemon (`jsctl daemon stop`), then enable it with:")
        click.echo(f"  {report['next']}")


def _stop_running_daemon() -> None:
    """A daemon started the ordinary way holds the lock the managed one will need."""
    from .daemon_cmds import stop

    click.get_current_context().invoke(stop)


@click.command()
@_manager_option
@json_option
def uninstall(use_systemd: bool) -> None:
    """Disable the daemon's service and remove its files (the daemon itself keeps working)."""
    rt = runtime()
    files = _files(use_systemd)
    present = [path for path in files if path.exists()]
    notes = []
    if present:
        for command in _disable_commands(use_systemd, files):
            ok, said = _run(command)
            if not ok:
                notes.append(f"`{' '.join(command)}`: {said or 'failed'}")
    for path in present:
        path.unlink()
    report = {"removed": [str(p) for p in present], "notes": notes}
    rt.emit(report, _print_uninstalled)


def _print_uninstalled(report: dict[str, list[str]]) -> None:
    if not report["removed"]:
        click.echo("no service files were installed")
    for path in report["removed"]:
        click.echo(f"removed {path}")
    for note in report["notes"]:
        click.echo(f"note: {note}")
