"""`jsctl sandbox`: run the bundled JumpServer-compatible sandbox in the foreground."""

from __future__ import annotations

import os
import sys

import click


@click.command(
    context_settings={
        "ignore_unknown_options": True,
        "allow_extra_args": True,
        "help_option_names": [],
    },
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sandbox(args: tuple[str, ...]) -> None:
    """Run a JumpServer-compatible sandbox on loopback (`jsctl sandbox --help` for options).

    It serves HTTPS with its own CA, a web login with captcha and TOTP MFA, the REST API and
    KoKo terminals whose assets are real local shells; it prints the URL, CA file, users,
    passwords and TOTP secrets and the `jsctl login` line, and runs until Ctrl-C. Its users,
    secrets, CA and port are kept under jsctl's state dir for the next start (`--ephemeral`
    for a throw-away one, `--data-dir DIR` for another place).
    """
    from ._extras import require_sandbox

    require_sandbox()
    chosen = {"--data-dir", "--ephemeral", "--persist"}
    if not any(a.split("=", 1)[0] in chosen for a in args):
        args = ("--persist", *args)
    os.execv(sys.executable, [sys.executable, "-m", "jsctl_sandbox", *args])
