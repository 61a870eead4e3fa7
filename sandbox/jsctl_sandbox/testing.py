"""Test helpers: run a sandbox as a subprocess and drive its control API (blocking)."""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CONTROL_HEADER = "X-Sandbox-Control"
SandboxFactory = Callable[..., AbstractContextManager["SandboxInfo"]]


@dataclass(frozen=True)
class SandboxUser:
    """A user of a running sandbox with its secrets."""

    username: str
    password: str
    totp_secret: str | None
    is_superuser: bool

    def totp_now(self) -> str:
        """The current TOTP code by this machine's clock (see SandboxInfo.totp_now)."""
        import pyotp

        if self.totp_secret is None:
            raise ValueError(f"user {self.username} has no MFA")
        return pyotp.TOTP(self.totp_secret).now()


@dataclass(frozen=True)
class SandboxInfo:
    """What a running sandbox announced on its --json line."""

    url: str
    ca_file: str | None
    users: list[SandboxUser]
    control_token: str
    data_dir: Path
    version: str
    pid: int

    def user(self, username: str) -> SandboxUser:
        """A user by name."""
        return next(u for u in self.users if u.username == username)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as httpx's ``verify``: an SSL context trusting the sandbox CA."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=self.ca_file)

    @property
    def ws_url(self) -> str:
        """The base URL for WebSockets (wss:// or ws://)."""
        return "ws" + self.url[len("http") :]

    def control(self) -> SandboxControl:
        """A control-API client for this sandbox."""
        return SandboxControl(self)

    def totp_now(self, username: str) -> str:
        """The TOTP code the server accepts now (follows a clock moved by the control API)."""
        import pyotp

        secret = self.user(username).totp_secret
        if secret is None:
            raise ValueError(f"user {username} has no MFA")
        offset = float(self.control().info()["clock_offset"])
        return str(pyotp.TOTP(secret).at(time.time() + offset))


class SandboxControl:
    """Blocking client for /_sandbox/ (faults, clock, sessions, counters)."""

    def __init__(self, info: SandboxInfo) -> None:
        self.sandbox = info

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control request; raises httpx.HTTPStatusError on failure."""
        with httpx.Client(
            base_url=self.sandbox.url, verify=self.sandbox.verify, timeout=10
        ) as client:
            response = client.request(
                method,
                f"/_sandbox/{path}",
                json=body,
                headers={CONTROL_HEADER: self.sandbox.control_token},
            )
            response.raise_for_status()
            return response.json()

    def expire_sessions(self) -> int:
        """Log every web session out now."""
        return int(self.call("POST", "sessions/expire/")["expired"])

    def advance_clock(self, seconds: float) -> None:
        """Move the server clock forward."""
        self.call("POST", "clock/advance/", {"seconds": seconds})

    def add_fault(
        self,
        path: str,
        kind: str = "status",
        *,
        status: int = 503,
        delay: float = 0.0,
        times: int | None = None,
        method: str | None = None,
    ) -> None:
        """Make requests under ``path`` fail (status), return garbage, or be slow."""
        self.call(
            "POST",
            "faults/",
            {
                "path": path,
                "kind": kind,
                "status": status,
                "delay": delay,
                "times": times,
                "method": method,
            },
        )

    def clear_access_keys(self, username: str | None = None) -> int:
        """Delete a user's (default: every user's) access keys; returns how many."""
        body = {} if username is None else {"username": username}
        return int(self.call("POST", "access-keys/clear/", body)["cleared"])

    def reset(self) -> None:
        """Clear faults, KoKo switches, ACL reviews (tokens and logins), throttling, login/MFA
        locks, captcha marks and counters (not sessions, tokens, tickets or the clock)."""
        self.call("POST", "reset/")

    def koko(self, **settings: Any) -> dict[str, Any]:
        """Set KoKo settings (drop_after_bytes, drop_randomly, idle_timeout_s, ...)."""
        result: dict[str, Any] = self.call("POST", "koko/", settings)
        return result

    def terminals(self) -> list[dict[str, Any]]:
        """Live terminal sessions: [{"id", "paused"}]."""
        return list(self.call("GET", "koko/terminals/")["terminals"])

    def terminal_task(self, session_id: str, task: str, by: str = "Administrator(admin)") -> None:
        """kill_session, lock_session, unlock_session, perm_expired or perm_valid."""
        self.call("POST", f"koko/terminals/{session_id}/task/", {"task": task, "by": by})

    def set_acl_review(self, enabled: bool) -> None:
        """Require ticket review for new connection tokens."""
        self.call("POST", "acl/", {"connection_token_review": enabled})

    def decide_ticket(self, ticket_id: str, approve: bool = True) -> None:
        """Approve or reject an open review ticket (connection token or login)."""
        self.call("POST", f"tickets/{ticket_id}/", {"action": "approve" if approve else "reject"})

    def set_login_review(self, username: str | None) -> None:
        """Make every login of ``username`` wait for an administrator (None: nobody's)."""
        self.call("POST", "login-review/", {"username": username})

    def tickets(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Review tickets ({id, kind, title, applicant, state, status}), oldest first;
        ``kind`` is `login_confirm` or `connection_token`."""
        found: list[dict[str, Any]] = self.call("GET", "tickets/")["tickets"]
        return [t for t in found if kind is None or t["kind"] == kind]

    def login_ticket(self, username: str) -> dict[str, Any] | None:
        """The newest login-review ticket of ``username``, if any."""
        mine = [t for t in self.tickets("login_confirm") if t["applicant"] == username]
        return mine[-1] if mine else None

    def set_throttle(self, enabled: bool) -> None:
        """Enable the version's DRF rates or disable throttling."""
        self.call("POST", "throttle/", {"enabled": enabled})

    def counters(self) -> dict[str, int]:
        """Event counters."""
        result: dict[str, int] = self.call("GET", "counters/")
        return result

    def captcha_answer(self, key: str) -> str:
        """The answer to a captcha shown by the login form."""
        return str(self.call("GET", f"captcha/{key}/")["answer"])

    def account_secret(self, asset: str, account: str) -> str:
        """An asset account's password: what the asset's `sudo` asks for."""
        return str(self.call("GET", f"accounts/{asset}/{account}/")["secret"])

    def info(self) -> dict[str, Any]:
        """Version, clock offset, recorded terminal sessions."""
        result: dict[str, Any] = self.call("GET", "info/")
        return result


def parse_announcement(line: str, pid: int) -> SandboxInfo:
    """SandboxInfo from the --json line of the process ``pid``."""
    data = json.loads(line)
    return SandboxInfo(
        url=data["url"],
        ca_file=data["ca_file"],
        users=[SandboxUser(**u) for u in data["users"]],
        control_token=data["control_token"],
        data_dir=Path(data["data_dir"]),
        version=data["version"],
        pid=pid,
    )


def wait_ready(info: SandboxInfo, deadline: float) -> None:
    """Block until the sandbox answers /api/health/ (or ``deadline``, a monotonic time)."""
    while True:
        try:
            with httpx.Client(verify=info.verify, timeout=2) as client:
                if client.get(f"{info.url}/api/health/").status_code in (200, 429):
                    return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


@contextlib.contextmanager
def running_sandbox(*extra_args: str, timeout: float = 30.0) -> Iterator[SandboxInfo]:
    """Start `python -m jsctl_sandbox --json --port 0 ...`, yield its info, stop it at exit."""
    cmd = [sys.executable, "-m", "jsctl_sandbox", "--json", "--port", "0", *extra_args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sandbox exited early with code {proc.wait()}: {' '.join(cmd)}")
        info = parse_announcement(line, proc.pid)
        wait_ready(info, time.monotonic() + timeout)
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def web_login(
    info: SandboxInfo, username: str = "admin", client: httpx.Client | None = None
) -> httpx.Client:
    """Log ``username`` in through the HTML form (with TOTP if needed); returns the client.

    A plain-httpx replay of the browser flow for tests that need a logged-in cookie jar
    (e.g. for KoKo WebSockets). The client keeps the rotated jms_sessionid/jms_csrftoken.
    """
    user = info.user(username)
    c = client or httpx.Client(base_url=info.url, verify=info.verify, timeout=10)
    headers = {"Origin": info.url, "Referer": f"{info.url}/core/auth/login/"}
    c.get("/core/auth/login/")
    response = c.post(
        "/core/auth/login/",
        data={
            "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
            "username": user.username,
            "password": user.password,
        },
        headers=headers,
    )
    if response.status_code != 302:
        raise RuntimeError(f"form login of {username} was refused ({response.status_code})")
    location = c.get("/core/auth/login/guard/").headers.get("location", "")
    if location.startswith("/core/auth/login/mfa/"):
        response = c.post(
            "/core/auth/login/mfa/",
            data={
                "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
                "mfa_type": "otp",
                "code": info.totp_now(username),
            },
            headers=headers,
        )
        location = c.get(response.headers["location"]).headers.get("location", "")
    if location.startswith("/core/auth/"):
        raise RuntimeError(f"form login of {username} did not finish (guard -> {location})")
    return c


def csrf_headers(info: SandboxInfo, client: httpx.Client) -> dict[str, str]:
    """Headers a cookie-authenticated unsafe API call needs."""
    return {"X-CSRFToken": client.cookies["jms_csrftoken"], "Origin": info.url}
