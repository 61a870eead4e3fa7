"""What makes each sandbox asset look like its own host: its name and its services.

Every asset is a shell on this machine, so `hostname` would print this machine's name on all of
them and `systemctl` would answer for this machine (or, without systemd, fail on every one). A
fleet command such as ``jsctl exec 'web-*' -- systemctl is-active nginx`` would then show
nothing that tells assets apart. The assets' PATH therefore starts with a small ``hostname``
(the asset's name) and ``systemctl`` (the asset's own units, one state file each under the
sandbox's data directory, which start/stop/restart change). Like on a real host, changing a unit
needs root: as the account it fails with systemd's "Interactive authentication required." and
works after the sandbox's ``sudo`` (which sets ``$JSCTL_SANDBOX_USER`` to root).

Every asset runs ``sshd`` and ``cron``; its role (a word of its name: web, db, cache, api, batch)
adds a service. Generated hosts whose number ends in 06 or 56 have that service stopped, so a
large fleet shows a few odd ones out.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .pty_shell import login_path

__all__ = ["SERVICES_ENV", "asset_environment", "default_units", "install_script"]

SERVICES_ENV = "JSCTL_SANDBOX_SERVICES"

_ROLE_UNITS = {
    "web": "nginx",
    "db": "postgresql",
    "cache": "redis-server",
    "api": "gunicorn",
    "batch": "celery",
}
_GENERATED = re.compile(r"^[a-z]+-(\d{5})$")

_SYSTEMCTL = """#!/bin/sh
# The sandbox asset's systemd: the units in $JSCTL_SANDBOX_SERVICES, one file each holding
# "active" or "inactive". Changing a unit needs root ($JSCTL_SANDBOX_USER, set by the sudo).
dir=${JSCTL_SANDBOX_SERVICES:-}
if [ ! -d "$dir" ]; then
    echo "System has not been booted with systemd as init system (PID 1). Can't operate." >&2
    exit 1
fi
quiet= verb= units=
for arg; do
    case $arg in
        -q|--quiet) quiet=1 ;;
        -*) ;;
        *) if [ -z "$verb" ]; then verb=$arg; else units="$units ${arg%.service}"; fi ;;
    esac
done
state() { if [ -f "$dir/$1" ]; then cat "$dir/$1"; else echo inactive; fi; }
need_units() {
    if [ -z "$units" ]; then echo "Too few arguments." >&2; exit 1; fi
}
status=0
case $verb in
    is-active)
        need_units
        for u in $units; do
            s=$(state "$u")
            [ -n "$quiet" ] || echo "$s"
            [ "$s" = active ] || status=3
        done ;;
    is-enabled)
        need_units
        for u in $units; do
            if [ -f "$dir/$u" ]; then
                [ -n "$quiet" ] || echo enabled
            else
                echo "Failed to get unit file state for $u.service: No such file or directory" >&2
                status=1
            fi
        done ;;
    status)
        need_units
        for u in $units; do
            if [ ! -f "$dir/$u" ]; then
                echo "Unit $u.service could not be found." >&2
                status=4
                continue
            fi
            echo "● $u.service - $u"
            file=/lib/systemd/system/$u.service
            echo "     Loaded: loaded ($file; enabled; vendor preset: enabled)"
            if [ "$(state "$u")" = active ]; then
                echo "     Active: active (running)"
            else
                echo "     Active: inactive (dead)"
                [ "$status" -ne 0 ] || status=3
            fi
        done ;;
    start|stop|restart|reload|try-restart)
        need_units
        for u in $units; do
            if [ ! -f "$dir/$u" ]; then
                echo "Failed to $verb $u.service: Unit $u.service not found." >&2
                status=5
            elif [ "${JSCTL_SANDBOX_USER:-}" != root ]; then
                echo "Failed to $verb $u.service: Interactive authentication required." >&2
                echo "See system logs and 'systemctl status $u.service' for details." >&2
                status=1
            elif [ "$verb" = stop ]; then
                echo inactive > "$dir/$u"
            elif [ "$verb" != reload ] && [ "$verb" != try-restart ]; then
                echo active > "$dir/$u"
            fi
        done ;;
    list-units|"")
        echo "UNIT                      LOAD   ACTIVE   SUB"
        for f in "$dir"/*; do
            u=$(basename "$f")
            if [ "$(state "$u")" = active ]; then sub=running; else sub=dead; fi
            printf '%-25s %-6s %-8s %s\\n' "$u.service" loaded "$(state "$u")" "$sub"
        done ;;
    *)
        echo "Unknown command verb $verb." >&2
        status=1 ;;
esac
exit $status
"""

_HOSTNAME = """#!/bin/sh
# The asset's name as its hostname; anything else goes to the real hostname.
case "$*" in
    ""|-s|--short|-f|--fqdn|--long|-A|--all-fqdns) echo "${HOSTNAME:-localhost}"; exit 0 ;;
esac
here=$(dirname "$0")
PATH=$(printf %s "$PATH" | tr : '\\n' | grep -vx "$here" | paste -sd: -)
exec hostname "$@"
"""


def default_units(asset: str) -> dict[str, str]:
    """The units an asset starts with, and their state."""
    units = {"sshd": "active", "cron": "active"}
    generated = _GENERATED.match(asset)
    for word in re.split(r"[^a-z]+", asset.lower()):
        unit = _ROLE_UNITS.get(word)
        if unit is not None:
            odd_one = generated is not None and int(generated.group(1)) % 50 == 6
            units[unit] = "inactive" if odd_one else "active"
    return units


def install_script(bin_dir: Path, name: str, text: str) -> None:
    """Put an executable script on an asset's PATH once (atomically: shells may be starting)."""
    script = bin_dir / name
    if script.is_file():
        return
    temporary = script.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(0o755)
    temporary.replace(script)


_READY: set[Path] = set()  # unit folders set up this run (every terminal would look again)


def asset_environment(data_dir: Path, asset: str) -> dict[str, str]:
    """The PATH (hostname and systemctl first) and units folder of one asset's shells."""
    bin_dir = data_dir / "asset-bin"
    units = data_dir / "services" / re.sub(r"[^A-Za-z0-9_.-]", "_", asset)
    if units not in _READY:
        bin_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        install_script(bin_dir, "systemctl", _SYSTEMCTL)
        install_script(bin_dir, "hostname", _HOSTNAME)
        if not units.is_dir():  # kept across restarts of a persistent sandbox
            units.mkdir(mode=0o700, parents=True, exist_ok=True)
            for unit, state in default_units(asset).items():
                (units / unit).write_text(state + "\n")
        _READY.add(units)
    return {
        "PATH": f"{bin_dir}:{login_path(os.environ.get('PATH', ''))}",
        SERVICES_ENV: str(units),
    }
