"""The newcomer demo: a real sandbox, a real daemon, and real `jsctl` commands, narrated.

Everything runs in a private JSCTL_HOME, so the demo never touches the user's own profiles.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import click

JSCTL = [sys.executable, "-m", "jsctl_clients"]


class Demo:
    """One demo run; `keep` leaves the sandbox and daemon running afterwards."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.home = tempfile.mkdtemp(prefix="jsctl-demo-", dir="/tmp")
        self.env = {**os.environ, "JSCTL_HOME": self.home, "JSCTL_OUTPUT": "table"}
        self.sandbox: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def say(self, text: str) -> None:
        click.echo(click.style(f"\n# {text}", fg="cyan", bold=True))

    def show_command(self, args: Sequence[str], note: str = "") -> None:
        line = "$ jsctl " + " ".join(shlex.quote(a) for a in args)
        click.echo(
            click.style(line, bold=True) + (click.style(f"   # {note}", dim=True) if note else "")
        )

    def jsctl(
        self,
        *args: str,
        note: str = "",
        input: str | None = None,
        check: bool = True,
        shown: Sequence[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run and echo a real jsctl command (``shown``: how to print it, if not as run)."""
        self.show_command(shown or args, note)
        result = subprocess.run(
            [*JSCTL, *args], env=self.env, input=input, text=True, capture_output=True, timeout=120
        )
        if result.stderr:  # progress lines ("Logging in to …") come before the result
            click.echo(result.stderr.rstrip("\n"), err=True)
        if result.stdout:
            click.echo(result.stdout.rstrip("\n"))
        if check and result.returncode not in (0,):
            raise click.ClickException(f"demo step failed (exit {result.returncode})")
        return result

    def start_sandbox(self) -> None:
        self.say(
            "Start the bundled JumpServer-compatible sandbox (HTTPS on loopback, "
            "real shells as assets)"
        )
        self.show_command(["sandbox", "--json", "--port", "0"], "runs in the background here")
        self.sandbox = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jsctl_sandbox",
                "--json",
                "--port",
                "0",
                "--data-dir",
                os.path.join(self.home, "sandbox"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=self.env,
            start_new_session=True,
        )
        assert self.sandbox.stdout is not None
        line = self.sandbox.stdout.readline()
        if not line:
            raise click.ClickException("the sandbox did not start")
        self.info = json.loads(line)
        click.echo(f"sandbox at {self.info['url']}, CA {self.info['ca_file']}")

    def user(self, name: str) -> dict[str, Any]:
        return next(u for u in self.info["users"] if u["username"] == name)

    def run(self) -> None:
        self.start_sandbox()
        mei = self.user("mei")
        secret = mei["totp_secret"]
        program = f"import pyotp; print(pyotp.TOTP({secret!r}).now())"
        code_cmd = f"{shlex.quote(sys.executable)} -c {shlex.quote(program)}"
        self.say(
            "Log in once: password, then MFA. The demo computes the TOTP code itself from "
            "the secret the sandbox printed (you would type it from your authenticator)"
        )
        login = [
            "login",
            "--url",
            self.info["url"],
            "--username",
            "mei",
            "--ca-file",
            self.info["ca_file"],
        ]
        self.jsctl(
            *login,
            "--otp-command",
            code_cmd,
            input=mei["password"] + "\n",
            shown=[*login, "--otp-command", "<prints the TOTP code>"],
            note="password piped on stdin for the demo",
        )
        self.jsctl("whoami")
        self.say("What may I reach?")
        self.jsctl("assets")
        self.say("Run commands; jsctl exits with the remote exit status")
        self.jsctl("exec", "web-01", "--", 'echo "hello from $HOSTNAME, in $PWD"')
        failed = self.jsctl("exec", "web-01", "--", "ls /no/such/dir", check=False)
        click.echo(click.style(f"(exit status {failed.returncode})", fg="yellow"))
        self.say("One command on many assets at once, identical answers grouped")
        fleet = self.jsctl(
            "exec", "--node", "/DEFAULT", "--group", "--", "systemctl is-active nginx", check=False
        )
        click.echo(
            click.style(f"(exit status {fleet.returncode}: some assets failed)", fg="yellow")
        )
        self.say("Long work: start it detached, come back for the result")
        handle = self.jsctl(
            "exec", "--detach", "db-01", "--", "for i in 1 2 3; do echo step $i; sleep 1; done"
        ).stdout.strip()
        self.jsctl("sessions")
        self.jsctl("wait", handle, note="exits with the run's status")
        self.jsctl("logs", handle, note="only that run's output")
        self.detach_and_reattach()
        self.say("Done. Try next:")
        click.echo("  jsctl sandbox                     # your own sandbox, in another terminal")
        click.echo("  jsctl login --url URL --username mei --ca-file CA")
        click.echo(
            "  jsctl shell web-01                # Ctrl-] d detaches, `jsctl attach` returns"
        )
        click.echo("  jsctl mcp install claude --allow 'staging-*'   # give an agent access")
        if self.keep:
            click.echo(
                f"\nThe demo's sandbox and daemon keep running: export JSCTL_HOME="
                f"{self.home}  (stop with: jsctl daemon stop; kill "
                f"{self.sandbox.pid if self.sandbox else ''})"
            )

    def detach_and_reattach(self) -> None:
        self.say("An interactive shell, detached and reattached: the same shell keeps its state")
        opened = json.loads(self.jsctl("--json", "exec", "--detach", "web-02", "--", "true").stdout)
        session = opened["session"]
        self.jsctl("wait", opened["handle"])
        self.in_pty(
            ["attach", session],
            "cd /tmp && export GREETING=still-here && echo typed in the first attach\r",
        )
        click.echo(click.style("(detached with Ctrl-] d; the shell keeps running)", fg="yellow"))
        self.in_pty(["attach", session], "echo $GREETING from $PWD\r")
        self.jsctl("kill", session)

    def in_pty(self, args: Sequence[str], keystrokes: str) -> None:
        """Run `jsctl ARGS` on a pseudo-terminal, type, then detach with Ctrl-] d."""
        self.show_command(args, "in a terminal; typing: " + keystrokes.strip())
        pid, fd = pty.fork()
        if pid == 0:  # the child becomes the attached jsctl
            os.execve(sys.executable, [sys.executable, "-m", "jsctl_clients", *args], self.env)
        output = b""
        try:
            output += _read_for(fd, 1.5)
            os.write(fd, keystrokes.encode())
            output += _read_for(fd, 1.5)
            os.write(fd, b"\x1dd")
            output += _read_for(fd, 2.0)
        finally:
            os.waitpid(pid, 0)
            os.close(fd)
        text = _ESCAPES.sub("", output.decode(errors="replace"))
        text = text.replace("\r\n", "\n").replace("\r", "")
        click.echo("\n".join("  | " + line for line in text.strip().splitlines()[-6:]))

    def close(self) -> None:
        if self.keep:
            return
        subprocess.run([*JSCTL, "daemon", "stop"], env=self.env, capture_output=True)
        if self.sandbox is not None:
            os.killpg(self.sandbox.pid, signal.SIGTERM)
            self.sandbox.wait(timeout=15)


# OSC (titles, exec markers) and CSI sequences: noise when a terminal is shown as text.
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b\[[0-9;?]*[A-Za-z]")


def _read_for(fd: int, seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    chunks = []
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def run_demo(keep: bool) -> None:
    """Run the whole demo."""
    demo = Demo(keep)
    try:
        demo.run()
    finally:
        demo.close()
