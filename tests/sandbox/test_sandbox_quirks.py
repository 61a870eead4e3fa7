"""HTTP-level quirks, faults, throttling, versions, lockouts and the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, web_login

PROFILE = "/api/v1/users/profile/"
AUTH = "/api/v1/authentication/auth/"


def client(sb: SandboxInfo, ip: str = "10.3.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=sb.url, verify=sb.verify, timeout=10, headers={"X-Forwarded-For": ip}
    )


def test_append_slash_and_404_kinds(sandbox: SandboxInfo) -> None:
    c = client(sandbox)
    r = c.post("/api/v1/authentication/auth", json={})
    assert (r.status_code, r.headers["location"]) == (301, "/api/v1/authentication/auth/")
    r = c.get("/api/v1/users/profile?x=1")
    assert r.headers["location"] == "/api/v1/users/profile/?x=1"
    r = c.get("/api/v1/no/such/thing/")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = c.get("/api/v1/no/such/thing")
    assert r.status_code == 404  # no slashed route either: no redirect


def test_a_body_that_arrives_after_the_answer_keeps_the_connection(sandbox: SandboxInfo) -> None:
    # Django redirects a slash-less POST without reading its body; behind nginx and gunicorn the
    # connection stays usable. A sandbox that closed it made clients' next request fail.
    parts = urlsplit(sandbox.url)
    context = ssl.create_default_context(cafile=sandbox.ca_file)
    raw = socket.create_connection((parts.hostname, parts.port), timeout=5)
    with context.wrap_socket(raw, server_hostname=parts.hostname) as tls:
        tls.sendall(
            b"POST /api/v1/authentication/auth HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
        )
        time.sleep(0.3)  # the body comes late
        tls.sendall(b"{}")
        assert tls.recv(65536).startswith(b"HTTP/1.1 301 ")
        tls.sendall(b"GET /api/health/ HTTP/1.1\r\nHost: x\r\n\r\n")
        assert tls.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_health(sandbox: SandboxInfo) -> None:
    c = client(sandbox)
    for path in ("/api/health/", "/api/v1/health/"):
        body = c.get(path).json()
        assert body["status"] is True and isinstance(body["time"], int)
    assert set(c.get("/koko/health/").json()) == {"timestamp", "uptime"}


def test_static_encrypt_js_by_version(sandbox: SandboxInfo, fresh_sandbox: SandboxFactory) -> None:
    c = client(sandbox)
    assert c.get("/static/js/session-encrypt.js").status_code == 404
    assert c.get("/static/js/jumpserver.js").status_code == 200
    with fresh_sandbox("--server-version", "4.10.19") as sb:
        js = client(sb).get("/static/js/session-encrypt.js")
        assert js.status_code == 200 and "::encrypted::" in js.text


def test_faults(sandbox: SandboxInfo) -> None:
    control = sandbox.control()
    c = web_login(sandbox, "admin")
    try:
        control.add_fault("/api/v1/users/profile/", "status", status=502, times=2)
        assert [c.get(PROFILE).status_code for _ in range(3)] == [502, 502, 200]
        control.add_fault("/api/v1/perms/", "garbage", times=1)
        r = c.get("/api/v1/perms/users/self/assets/")
        with pytest.raises(ValueError):
            r.json()
        control.add_fault("/api/v1/users/profile/", "slow", delay=0.3, times=1)
        started = time.monotonic()
        assert c.get(PROFILE).status_code == 200
        assert time.monotonic() - started >= 0.3
        control.add_fault("/api/health/", "status", status=503)
        assert [client(sandbox).get("/api/health/").status_code for _ in range(2)] == [503, 503]
    finally:
        control.reset()
    assert client(sandbox).get("/api/health/").status_code == 200


def test_control_api_needs_the_token(sandbox: SandboxInfo) -> None:
    r = client(sandbox).post("/_sandbox/sessions/expire/")
    assert r.status_code == 403


def test_koko_settings_via_control(sandbox: SandboxInfo) -> None:
    control = sandbox.control()
    try:
        settings = control.koko(drop_after_bytes=100, idle_timeout_s=5.0)
        assert settings["drop_after_bytes"] == 100 and settings["idle_timeout_s"] == 5.0
        with pytest.raises(httpx.HTTPStatusError):
            control.koko(no_such_setting=1)
    finally:
        control.reset()
    assert control.koko()["drop_after_bytes"] is None


def test_throttling(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox() as sb:  # v4.10.16: 60 anonymous calls a minute per IP
        c = client(sb, "10.3.9.9")
        codes = [c.get("/api/health/").status_code for _ in range(61)]
        assert codes[:60] == [200] * 60 and codes[60] == 429
        r = c.get("/api/health/")
        assert r.json()["code"] == "throttled"
        assert int(r.headers["retry-after"]) > 0
        assert f"in {r.headers['retry-after']} seconds" in r.json()["detail"]
        assert client(sb, "10.3.9.10").get("/api/health/").status_code == 200  # per IP
        assert c.get("/core/auth/login/").status_code == 200  # HTML pages are not throttled
        sb.control().advance_clock(61)
        assert c.get("/api/health/").status_code == 200


def test_lockout_after_seven_failures(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        password = sb.user("mei").password
        msgs = []
        for i in range(7):
            r = client(sb, f"10.4.0.{i}").post(AUTH, json={"username": "mei", "password": "no"})
            assert r.json()["error"] == "password_failed"
            msgs.append(r.json()["msg"])
        assert "try 7 times" in msgs[0] and "try 1 times" in msgs[6]
        r = client(sb).post(AUTH, json={"username": "mei", "password": password})
        assert (r.status_code, r.json()["error"]) == (400, "block_login")
        r = client(sb, "10.4.1.1").post(AUTH, json={"username": "mei", "password": password})
        assert r.json()["error"] == "block_login"  # from any IP
        admin = web_login(sb, "admin")
        listed = admin.get("/api/v1/users/users/", params={"username": "mei"}).json()
        assert listed[0]["login_blocked"] is True
        mei_id = listed[0]["id"]
        r = admin.patch(
            f"/api/v1/users/users/{mei_id}/unblock/",
            headers={"X-CSRFToken": admin.cookies["jms_csrftoken"], "Origin": sb.url},
        )
        assert r.status_code == 200 and r.json()["login_blocked"] is False
        r = client(sb).post(AUTH, json={"username": "mei", "password": password})
        assert r.json()["error"] == "mfa_required"


def test_mfa_lockout(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        c = client(sb)
        c.post(AUTH, json={"username": "mei", "password": sb.user("mei").password})
        errors = []
        for _ in range(8):
            r = c.post("/api/v1/authentication/mfa/challenge/", json={"type": "otp", "code": "1"})
            errors.append(r.json()["error"])
        assert errors[:7] == ["mfa_failed"] * 7 and errors[7] == "block_mfa"
        r = c.post(
            "/api/v1/authentication/mfa/challenge/",
            json={"type": "otp", "code": sb.totp_now("mei")},
        )
        assert r.json()["error"] == "block_mfa"
        sb.control().reset()  # clears login and MFA locks
        r = c.post(
            "/api/v1/authentication/mfa/challenge/",
            json={"type": "otp", "code": sb.totp_now("mei")},
        )
        assert r.json() == {"msg": "ok"}


def test_v3_behaviours(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--server-version", "3.10.23") as sb:
        c = client(sb)
        r = c.get("/api/v1/authentication/user-session/")
        assert (r.status_code, r.content) == (200, b"")
        assert c.get(PROFILE).headers["www-authenticate"] == "Bearer"
        assert [c.get("/api/health/").status_code for _ in range(70)][-1] == 200  # no throttle
        admin = web_login(sb, "admin")
        item = admin.get("/api/v1/perms/users/self/assets/").json()[0]
        assert "domain" in item and "zone" not in item


def test_empty_cookie_prefix(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--cookie-prefix", "") as sb:
        c = client(sb)
        c.get("/core/auth/login/")
        assert {"sessionid", "csrftoken"} <= set(c.cookies.keys())
        assert c.cookies["SESSION_COOKIE_NAME_PREFIX"] == '""'


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jsctl_sandbox", *args], capture_output=True, text=True, timeout=30
    )


def test_cli_refuses_remote_hosts() -> None:
    result = run_cli("--host", "0.0.0.0", "--json")
    assert result.returncode == 2 and "--allow-remote" in result.stderr


def test_cli_human_summary_and_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jsctl_sandbox", "--port", "0", "--http"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(7)]
    text = "".join(lines)
    assert "http://127.0.0.1:" in text and "otpauth://totp/" in text and "mei" in text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    proc.stdout.close()


def test_cli_json_line(tmp_path: os.PathLike[str]) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jsctl_sandbox",
            "--json",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    assert proc.wait(timeout=10) == 0
    proc.stdout.close()
    assert set(info) == {"url", "ca_file", "users", "control_token", "data_dir", "version"}
    assert info["url"].startswith("https://127.0.0.1:") and info["version"] == "4.10.16"
    assert info["ca_file"].startswith(str(tmp_path))
    assert {u["username"] for u in info["users"]} == {"admin", "mei"}
    assert rest == ""  # nothing else on stdout
