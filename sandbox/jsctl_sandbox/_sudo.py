"""A `sudo` on every sandbox asset's PATH that really asks for the account's password.

Like sudo it prints `[sudo] password for USER: ` on the terminal, reads the answer with echo
off, says `Sorry, try again.` after a wrong one and gives up after three; then it runs the
command. The sandbox cannot change local users, so the shells carry the account's name in
`$JSCTL_SANDBOX_USER`, which the `id -un` and `whoami` beside this sudo report (as a real host
would report the account), and which sudo sets to `root` (or `-u USER`) for what it runs. It
does not cache the password between calls. The password is the asset account's secret; the
script sees only a salted hash of it, kept outside the asset's home directory.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from ._services import install_script
from .pty_shell import login_path

SUDO_FILE_ENV = "JSCTL_SANDBOX_SUDO_FILE"

_SCRIPT = """#!{python}
import getpass, hashlib, os, sys
path = os.environ.get("{env}")
user = os.environ.get("{env}_USER") or getpass.getuser()
args = sys.argv[1:]
target = "root"
while args and args[0].startswith("-") and args[0] not in ("-i", "-s", "--"):
    if args[0] == "-u" and len(args) > 1:
        target, args = args[1], args[2:]
        continue
    args = args[1:]
if args and args[0] == "--":
    args = args[1:]
if not args:
    sys.stderr.write("usage: sudo [-i|-s] command\\n")
    sys.exit(1)
try:
    salt, digest = open(path).read().split(":")
except (OSError, TypeError, ValueError):
    sys.stderr.write("sudo: no password is set up for this account\\n")
    sys.exit(1)
for attempt in range(3):
    try:
        answer = getpass.getpass("[sudo] password for %s: " % user)
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\\n")
        sys.exit(1)
    if hashlib.sha256((salt + answer).encode()).hexdigest() == digest:
        break
    if attempt < 2:
        sys.stderr.write("Sorry, try again.\\n")
else:
    sys.stderr.write("sudo: 3 incorrect password attempts\\n")
    sys.exit(1)
env = dict(os.environ, SUDO_USER=user, JSCTL_SANDBOX_USER=target, HOME=os.environ.get("HOME", "/"))
if args[0] in ("-i", "-s"):
    shell = os.environ.get("SHELL", "/bin/bash")
    os.execve(shell, [shell, "--norc", "--noprofile", "-i"] + args[1:], env)
os.execvpe(args[0], args, env)
"""


_ID = """#!/bin/sh
# The sandbox's account name for `id -un` / `whoami`; anything else is the real id.
if [ -n "$JSCTL_SANDBOX_USER" ]; then
    case "$(basename "$0") $*" in
        "whoami "|"id -un"|"id -nu"|"id -u -n"|"id -n -u") echo "$JSCTL_SANDBOX_USER"; exit 0;;
    esac
fi
PATH=$(printf %s "$PATH" | sed "s|^$(dirname "$0"):||")
exec "$(basename "$0")" "$@"
"""


_SU = """#!{python}
import getpass, hashlib, os, sys, time
args, target, login, command = sys.argv[1:], "root", False, None
while args:
    arg = args.pop(0)
    if arg in ("-", "-l", "--login"):
        login = True
    elif arg in ("-c", "--command") and args:
        command = args.pop(0)
    elif not arg.startswith("-"):
        target = arg
folder = os.path.dirname(os.environ.get("{env}", "/nonexistent/x"))
try:
    salt, digest = open(os.path.join(folder, target)).read().split(":")
except (OSError, ValueError):
    sys.stderr.write("su: user %s does not exist or the user entry does not contain all the "
                     "required fields\\n" % target)
    sys.exit(1)
try:
    answer = getpass.getpass("Password: ")
except (EOFError, KeyboardInterrupt):
    sys.stderr.write("\\n")
    sys.exit(1)
if hashlib.sha256((salt + answer).encode()).hexdigest() != digest:
    time.sleep(1)
    sys.stderr.write("su: Authentication failure\\n")
    sys.exit(1)
env = dict(os.environ, JSCTL_SANDBOX_USER=target)
shell = os.environ.get("SHELL", "/bin/bash")
argv = [shell, "--norc", "--noprofile"] + (["-c", command] if command else ["-i"])
os.execve(shell, argv, env)
"""


_WRITTEN: dict[Path, str] = {}  # password file -> the password it holds (written this run)


def _write_hash(folder: Path, username: str, password: str) -> Path:
    path = folder / username
    if _WRITTEN.get(path) == password and path.is_file():
        return (
            path  # every terminal on the asset would rewrite it: the sandbox's CPU is the bench's
        )
    salt = secrets.token_hex(8)
    digest = hashlib.sha256((salt + password).encode()).hexdigest()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(f"{salt}:{digest}")
    _WRITTEN[path] = password
    return path


def sudo_environment(
    data_dir: Path,
    asset: str,
    username: str,
    password: str,
    others: Mapping[str, str] | None = None,
    path: str | None = None,
) -> dict[str, str]:
    """The environment a shell needs for the sandbox's sudo: its PATH entry (before ``path``,
    by default the login PATH) and password file."""
    bin_dir = data_dir / "sudo-bin"
    if not bin_dir.is_dir():
        bin_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    install_script(bin_dir, "sudo", _SCRIPT.format(python=sys.executable, env=SUDO_FILE_ENV))
    install_script(bin_dir, "id", _ID)
    install_script(bin_dir, "whoami", _ID)
    install_script(bin_dir, "su", _SU.format(python=sys.executable, env=SUDO_FILE_ENV))
    secret_dir = data_dir / "sudo" / asset
    if not secret_dir.is_dir():
        secret_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for other, other_password in (others or {}).items():  # what `su OTHER` asks for
        _write_hash(secret_dir, other, other_password)
    secret_file = _write_hash(secret_dir, username, password)
    return {
        "PATH": f"{bin_dir}:{path or login_path(os.environ.get('PATH', ''))}",
        SUDO_FILE_ENV: str(secret_file),
        f"{SUDO_FILE_ENV}_USER": username,
        "JSCTL_SANDBOX_USER": username,
    }
