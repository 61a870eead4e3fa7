"""`jsctl login`, `logout`, `whoami`, `doctor` and `profile ls|use|rm`."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from jsctl_protocol import ErrorCode, RpcError

from ..rpc import DaemonUnreachable
from ._app import EXIT_FAILED, EXIT_UNREACHABLE, fail, json_option, runtime

profile_option = click.option(
    "--profile", "-p", help="Profile name (default: the default profile)."
)


class Answers:
    """Where secrets come from: env, piped stdin lines, a command, or a hidden prompt."""

    def __init__(self, otp_command: str | None) -> None:
        self.interactive = sys.stdin.isatty()
        self.otp_command = otp_command

    def _line(self, what: str) -> str:
        line = sys.stdin.readline()
        if not line:
            fail(f"the login needs {what}, but standard input has no more lines")
        return line.rstrip("\r\n")

    def password(self) -> str:
        env = os.environ.get("JSCTL_PASSWORD")
        if env:
            return env
        if not self.interactive:
            return self._line("a password")
        return click.prompt("Password", hide_input=True)

    def code(self, mfa_type: str) -> str:
        if self.otp_command:
            result = subprocess.run(shlex.split(self.otp_command), capture_output=True, text=True)
            if result.returncode != 0 or not result.stdout.strip():
                fail(f"--otp-command failed (exit {result.returncode}): {result.stderr.strip()}")
            return result.stdout.strip()
        if not self.interactive:
            return self._line(f"an MFA code ({mfa_type})")
        return click.prompt(f"MFA code ({mfa_type})").strip()

    def choice(self, choices: list[str]) -> str:
        if len(choices) == 1 or not self.interactive:
            return "otp" if "otp" in choices else choices[0]
        return str(click.prompt("MFA method", type=click.Choice(choices), default=choices[0]))

    def captcha(self, image: bytes, error: str | None, state_dir: Path) -> str:
        path = state_dir / "captcha.png"
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(image)
        if error:
            click.echo(f"jsctl: {error}", err=True)
        click.echo(f"The server asks for a captcha: the image is at {path}", err=True)
        viewer = shutil.which("xdg-open") or shutil.which("open")
        if viewer and self.interactive and os.environ.get("DISPLAY", "darwin" in sys.platform):
            subprocess.Popen(
                [viewer, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        if not self.interactive:
            return self._line("a captcha answer")
        return click.prompt("Captcha answer (the result of the sum shown)").strip()


REVIEW_WAIT_S = 5.0  # how long one `auth.login.answer` call may wait for the review


def _announce_review(step: dict[str, Any]) -> None:
    ticket = f"ticket {step['ticket_id']}; " if step.get("ticket_id") else ""
    click.echo(
        f"Waiting for an administrator to approve this login ({ticket}Ctrl-C gives up)…",
        err=True,
    )


def _answer_step(step: dict[str, Any], answers: Answers, state_dir: Path) -> dict[str, Any]:
    kind = step["step"]
    if kind == "password":
        return {"password": answers.password()}
    if kind == "captcha":
        return {"captcha": answers.captcha(step["image_png"], step.get("error"), state_dir)}
    if kind == "mfa_choice":
        return {"mfa_type": answers.choice(step["choices"])}
    if kind == "mfa_code":
        return {"code": answers.code(step["mfa_type"])}
    if kind == "review":
        return {"wait": REVIEW_WAIT_S}
    raise click.ClickException(f"unexpected login step {kind!r}; is the daemon newer?")


@click.command()
@profile_option
@click.option("--url", help="JumpServer base URL, e.g. https://jms.example.com")
@click.option("--username", "-u", help="JumpServer username.")
@click.option("--org", help="Organisation (name or id) for this profile.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    help="CA bundle that signed the server's certificate.",
)
@click.option("--insecure", is_flag=True, help="Do not verify TLS (not recommended).")
@click.option("--otp-command", help="Command that prints the MFA code (e.g. `oathtool …`).")
@json_option
def login(
    profile: str | None,
    url: str | None,
    username: str | None,
    org: str | None,
    ca_file: str | None,
    insecure: bool,
    otp_command: str | None,
) -> None:
    """Log in once (password, captcha when asked, MFA); the daemon keeps the login alive.

    The password comes from $JSCTL_PASSWORD, else the first line of standard input when it
    is not a terminal, else a hidden prompt; the MFA code from --otp-command, else the next
    line of standard input, else a prompt. Nothing secret is ever taken from a flag.
    """
    if ca_file and insecure:
        raise click.UsageError("--ca-file and --insecure contradict each other")
    rt = runtime()
    answers = Answers(otp_command)
    client = rt.client()
    step = client.call(
        "auth.login.start",
        profile=profile,
        url=url,
        username=username,
        org=org,
        ca_file=ca_file,
        insecure=insecure or None,
    )
    login_id = step["login_id"]
    if not rt.json:
        click.echo(
            f"Logging in to {step['url']} as {step['username']} (profile {step['profile']})",
            err=True,
        )
    waiting = False
    try:
        while step["step"] != "done":
            if step["step"] == "review" and not waiting:
                _announce_review(step)  # once, not on every poll
            waiting = step["step"] == "review"
            reply = _answer_step(step, answers, rt.paths.state_dir)
            try:
                step = client.call("auth.login.answer", login_id=login_id, **reply)
            except RpcError as exc:
                retry = (exc.data or {}).get("retry") if isinstance(exc.data, dict) else None
                if retry is None or not answers.interactive:
                    raise
                click.echo(f"jsctl: {exc.message}", err=True)
                step = retry
    except KeyboardInterrupt:
        client.call("auth.login.cancel", login_id=login_id)
        fail("login cancelled", 130)
    step.pop("image_png", None)
    rt.emit(step, _print_logged_in)


def _print_logged_in(done: dict[str, Any]) -> None:
    who = done.get("name") or done["username"]
    click.echo(f"Logged in as {who} (profile {done['profile']}).")
    if done.get("access_key_id"):
        click.echo(f"REST calls use access key {done['access_key_id']}.")
    for warning in done.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)


@click.command()
@profile_option
@json_option
def logout(profile: str | None) -> None:
    """Revoke the access key and web session server-side, and forget the login."""
    rt = runtime()
    result = rt.call("auth.logout", profile=profile)
    rt.emit(
        result,
        lambda r: click.echo(
            f"Logged out of profile {r['profile']} (access key revoked: "
            f"{'yes' if r['access_key_revoked'] else 'no'})."
        ),
    )


def _when(timestamp: float | None) -> str:
    if not timestamp:
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(timestamp))


def _print_whoami(info: dict[str, Any]) -> None:
    user = info.get("user") or {}
    click.echo(f"profile      {info['profile']}")
    click.echo(f"server       {info['url']}")
    if user:
        click.echo(f"user         {user.get('name', '?')} ({info['username']})")
    else:
        why = (info.get("rest") or {}).get("error") or "the server did not say who you are"
        click.echo(f"user         {info['username']} (not confirmed: {why})")
    org = info.get("org") or "default"
    if info.get("org_name") and info["org_name"] != org:
        org = f"{info['org_name']} ({org})"
    click.echo(f"org          {org}")
    key = info["access_key"]
    key_text = key["id"] or "none"
    if key.get("revoked"):
        key_text += " (REVOKED on the server: the next `jsctl login` creates a new one;"
        key_text += " REST uses the web session meanwhile)"
    elif key["id"]:
        key_text += " (works)" if key["ok"] else " (FAILS)"
    click.echo(f"access key   {key_text}")
    web = info["web_session"]
    koko = info.get("koko") or {}
    if web.get("valid"):
        click.echo(f"web session  valid until {_when(web.get('valid_until'))} (slides while used)")
    elif koko.get("via") == "access_key":
        click.echo("web session  expired (not needed: KoKo takes the access key)")
    else:
        click.echo(f"web session  EXPIRED — {web.get('fix') or web.get('error', '')}")
    if koko:
        click.echo(f"terminals    via {koko['detail']}")


@click.command()
@profile_option
@json_option
def whoami(profile: str | None) -> None:
    """Who you are logged in as, and how long the web session lasts."""
    rt = runtime()
    try:
        info = rt.call("auth.whoami", profile=profile)
    except RpcError as exc:
        if exc.code == ErrorCode.LOGIN_REQUIRED and isinstance(exc.data, dict) and rt.json:
            rt.emit(exc.data)
        raise
    rt.emit(info, _print_whoami)


def _local_checks(rt: Any) -> list[dict[str, Any]]:
    paths = rt.paths
    checks = []
    try:
        client = rt.client(autostart=True)
        status = client.call("daemon.status")
        checks.append(
            {
                "name": "daemon",
                "ok": True,
                "detail": f"pid {status['pid']}, up {status['uptime_s']:.0f} s",
                "fix": "",
            }
        )
    except DaemonUnreachable as exc:
        return [
            {
                "name": "daemon",
                "ok": False,
                "detail": str(exc),
                "fix": f"see {paths.log_file}; try `jsctl daemon start --foreground`",
            }
        ]
    mode_dir = paths.runtime_dir.stat().st_mode & 0o777
    mode_sock = paths.socket.stat().st_mode & 0o777 if paths.socket.exists() else None
    private = mode_dir == 0o700 and mode_sock in (0o600, None)
    checks.append(
        {
            "name": "socket",
            "ok": private,
            "detail": f"{paths.socket} (dir {mode_dir:o}, socket {mode_sock:o})"
            if mode_sock
            else str(paths.socket),
            "fix": f"chmod 700 {paths.runtime_dir}; chmod 600 {paths.socket}",
        }
    )
    return checks


@click.command()
@profile_option
@json_option
def doctor(profile: str | None) -> None:
    """Check daemon, socket, network, TLS, login, web session and KoKo, naming each fix."""
    rt = runtime()
    checks = _local_checks(rt)
    result: dict[str, Any] = {"checks": checks}
    if checks[0]["ok"]:
        try:
            remote = rt.call("auth.doctor", profile=profile)
            result.update(remote, checks=checks + remote["checks"])
        except RpcError as exc:
            result["checks"].append(
                {
                    "name": "profile",
                    "ok": False,
                    "detail": exc.message,
                    "fix": "run `jsctl login --url https://…`",
                }
            )
    healthy = all(item["ok"] for item in result["checks"])
    result["ok"] = healthy

    def show(data: dict[str, Any]) -> None:
        for item in data["checks"]:
            mark = click.style(" OK ", fg="green") if item["ok"] else click.style("FAIL", fg="red")
            click.echo(f"[{mark}] {item['name']:12} {item['detail']}")
            if not item["ok"] and item["fix"]:
                click.echo(f"       fix: {item['fix']}")

    rt.emit(result, show)
    if not healthy:
        sys.exit(EXIT_UNREACHABLE if not checks[0]["ok"] else EXIT_FAILED)


@click.group()
def profile() -> None:
    """List profiles, choose the default, forget one."""


@profile.command("ls")
@json_option
def profile_ls() -> None:
    """List profiles (* marks the default)."""
    rt = runtime()

    def show(data: dict[str, Any]) -> None:
        if not data["profiles"]:
            click.echo("no profiles yet: run `jsctl login --url https://… --username …`")
        for row in data["profiles"]:
            mark = "*" if row["default"] else " "
            state = "logged in" if row["logged_in"] else "logged out"
            click.echo(
                f"{mark} {row['name']:16} {row['username'] or '-':12} "
                f"{row['url'] or '-':40} {state}"
            )

    rt.emit(rt.call("profile.list"), show)


@profile.command("use")
@click.argument("name")
@json_option
def profile_use(name: str) -> None:
    """Make NAME the default profile."""
    rt = runtime()
    rt.emit(rt.call("profile.use", name=name), lambda _: click.echo(f"default profile: {name}"))


@profile.command("rm")
@click.argument("name")
@json_option
def profile_rm(name: str) -> None:
    """Forget NAME's login locally (`jsctl logout` also revokes it server-side)."""
    rt = runtime()
    rt.emit(rt.call("profile.remove", name=name), lambda _: click.echo(f"forgot profile {name}"))


__all__ = ["doctor", "login", "logout", "profile", "whoami"]
_ = EXIT_UNREACHABLE
