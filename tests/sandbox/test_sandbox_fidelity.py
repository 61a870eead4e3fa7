"""The sandbox behaves like the real v4.10.16 server in the edge cases real servers showed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
from test_koko_support import SandboxTarget, open_terminal

from jsctl_sandbox.testing import (
    SandboxFactory,
    SandboxInfo,
    csrf_headers,
    parse_announcement,
    wait_ready,
    web_login,
)

LOGIN = "/core/auth/login/"
PROFILE = "/api/v1/users/profile/"
KEYS = "/api/v1/authentication/access-keys/"
USER_SESSION = "/api/v1/authentication/user-session/"


def _form_login(sb: SandboxInfo, username: str, c: httpx.Client) -> httpx.Response:
    c.get(LOGIN)
    return c.post(
        LOGIN,
        data={
            "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
            "username": username,
            "password": sb.user(username).password,
        },
    )


def test_cookie_post_without_referer_is_accepted(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    token = {"X-CSRFToken": c.cookies["jms_csrftoken"]}  # no Origin, no Referer (HTTPS)
    r = c.post("/api/v1/authentication/confirm/", json={"confirm_type": "password"}, headers=token)
    assert r.status_code != 403, r.text
    # A proxy that sets X-Forwarded-Proto turns Django's Referer rule on.
    r = c.post(
        "/api/v1/authentication/confirm/",
        json={"confirm_type": "password"},
        headers={**token, "X-Forwarded-Proto": "https"},
    )
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    assert r.json()["detail"] == "CSRF Failed: Referer checking failed - no Referer."


def test_strict_referer_flag(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--strict-referer") as sb:
        c = web_login(sb, "admin")
        r = c.post(KEYS, json={}, headers={"X-CSRFToken": c.cookies["jms_csrftoken"]})
        assert r.status_code == 403
        assert r.json()["detail"] == "CSRF Failed: Referer checking failed - no Referer."
        with_referer = {"X-CSRFToken": c.cookies["jms_csrftoken"], "Referer": sb.url + "/ui/"}
        assert c.get(KEYS, headers=with_referer).status_code == 200


def test_revoked_key_is_401_with_challenge(sandbox: SandboxInfo) -> None:
    from test_sandbox_access_keys import create_key, sign

    sandbox.control().clear_access_keys("admin")
    c = web_login(sandbox, "admin")
    key = create_key(sandbox, c, "admin")
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    signed = {"Date": date, "Authorization": sign("get", PROFILE, date, key["id"], key["secret"])}
    fresh = httpx.Client(base_url=sandbox.url, verify=sandbox.verify)
    assert fresh.get(PROFILE, headers=signed).status_code == 200
    revoked = sandbox.control().call(
        "POST", "access-keys/revoke/", {"username": "admin", "key_id": key["id"]}
    )
    assert revoked == {"revoked": 1}
    r = fresh.get(PROFILE, headers=signed)
    assert (r.status_code, r.json()) == (
        401,
        {"detail": "Invalid signature.", "code": "authentication_failed"},
    )
    assert r.headers["www-authenticate"] == 'Signature realm="api",headers="(request-target) date"'
    assert c.get(PROFILE).status_code == 200  # the web session is untouched


def test_orgs_as_the_community_edition_names_them(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "mei")
    perms = c.get("/api/v1/users/profile/permissions/").json()
    names = [o["name"] for o in perms["workbench_orgs"]]
    assert names[:2] == ["All organizations", "DEFAULT"] and "Default" not in names
    root = perms["workbench_orgs"][0]
    assert root["is_root"] and root["id"] == "00000000-0000-0000-0000-000000000000"
    assert c.get("/api/v1/orgs/orgs/current/").json()["name"] == "DEFAULT"
    nodes = c.get("/api/v1/perms/users/self/nodes/").json()
    assert any(n["full_value"] == "/DEFAULT" and n["value"] == "DEFAULT" for n in nodes)


def test_permed_accounts_types(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    item = c.get("/api/v1/perms/users/self/assets/", params={"search": "web-01"}).json()[0]
    detail = c.get(f"/api/v1/perms/users/self/assets/{item['id']}/").json()
    for account in detail["permed_accounts"]:
        assert account["secret_type"] == "password"
        assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [+-]\d{4}", account["date_expired"])


def test_password_change_flow(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        flags = sb.control().call("POST", "users/admin/", {"must_change_password": True})
        assert flags["must_change_password"] is True
        c = httpx.Client(base_url=sb.url, verify=sb.verify)
        r = _form_login(sb, "admin", c)
        assert r.status_code == 302
        location = r.headers["location"]
        assert re.fullmatch(r"/core/common/flash-message/\?code=[A-Za-z0-9]{12}", location)
        page = c.get(location)
        assert page.status_code == 200 and "Please change your password" in page.text
        assert re.search(r'href="/core/auth/password/reset/\?token=[\w-]+"', page.text)
        r = c.get(PROFILE)  # not logged in
        assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")
        r = httpx.post(
            sb.url + "/api/v1/authentication/auth/",
            json={"username": "admin", "password": sb.user("admin").password},
            verify=sb.verify,
        )
        assert (r.status_code, r.json()) == (500, {"error": "Server internal error"})


def test_mfa_forced_but_not_set_up(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        sb.control().call("POST", "users/mei/", {"mfa": "forced"})
        c = httpx.Client(base_url=sb.url, verify=sb.verify)
        assert _form_login(sb, "mei", c).headers["location"] == "/core/auth/login/guard/"
        guard = c.get("/core/auth/login/guard/")
        assert guard.headers["location"] == "/core/auth/profile/otp/enable/start/"
        assert c.get(PROFILE).status_code == 401
        r = httpx.post(
            sb.url + "/api/v1/authentication/auth/",
            json={"username": "mei", "password": sb.user("mei").password},
            verify=sb.verify,
        )
        assert r.status_code == 200 and r.json()["error"] == "mfa_required"
        assert r.json()["data"]["choices"] == []


def test_koko_unrouted(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        client = httpx.Client(base_url=sb.url, verify=sb.verify)
        assert client.get("/koko/health/").status_code == 200
        sb.control().call("POST", "koko/routing/", {"routed": False})
        r = client.get("/koko/health/")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        upgrade = client.get(
            "/koko/ws/terminal/",
            headers={
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert upgrade.status_code == 500
        sb.control().reset()
        assert client.get("/koko/health/").status_code == 200


@pytest.fixture
def ignoring_sandbox() -> Iterator[SandboxInfo]:
    """A sandbox started as `… &` under nohup starts it: SIGINT, SIGQUIT and SIGHUP ignored."""

    def ignore() -> None:
        for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)

    proc = subprocess.Popen(
        [sys.executable, "-m", "jsctl_sandbox", "--json", "--port", "0", "--no-throttle"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        preexec_fn=ignore,
        env={**os.environ, "PATH": "/nonexistent", "JSCTL_LEAK": "leaked"},  # cron-like
    )
    try:
        assert proc.stdout is not None
        info = parse_announcement(proc.stdout.readline(), proc.pid)
        wait_ready(info, time.monotonic() + 20)
        yield info
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


async def test_asset_shells_reset_ignored_signals(ignoring_sandbox: SandboxInfo) -> None:
    target = SandboxTarget(ignoring_sandbox)
    try:
        async with open_terminal(target) as client:
            await client.start()
            await client.expect_output(b"$ ")
            status = "grep -E '^Sig(Ign|Blk)' /proc/self/status | tr -d '\\t'"
            await client.type(status + "; echo DONE$((1+1))\r")
            out = await client.expect_output(b"DONE2\r\n")
            ignored = int(re.search(rb"SigIgn:([0-9a-f]+)", out).group(1), 16)  # type: ignore[union-attr]
            blocked = int(re.search(rb"SigBlk:([0-9a-f]+)", out).group(1), 16)  # type: ignore[union-attr]
            for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
                assert not ignored & (1 << (signum - 1)), f"{signum!r} ignored in the shell"
            assert blocked == 0
            await client.type('echo "[${JSCTL_LEAK-unset}]" "$(command -v ls)"\r')
            await client.expect_output(b"[unset] /")  # nothing leaks in, ls is found
            await client.type("sleep 30; echo SLEPT\r")
            await trio.sleep(0.5)
            started = trio.current_time()
            await client.type("\x03")
            await client.expect_output(b"$ ")
            assert trio.current_time() - started < 5
    finally:
        target.close()


def _start(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "jsctl_sandbox", "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert proc.stdout is not None
    rest = proc.stdout.read()
    proc.stdout.close()
    return rest


def test_persistent_sandbox_keeps_users_keys_sessions_ca_and_port(tmp_path: Path) -> None:
    data_dir = tmp_path / "sandbox"
    first = _start(data_dir, "--json", "--no-throttle")
    assert first.stdout is not None
    info = parse_announcement(first.stdout.readline(), first.pid)
    wait_ready(info, time.monotonic() + 20)
    c = web_login(info, "mei")
    r = c.post(
        "/api/v1/authentication/confirm/",
        json={"confirm_type": "mfa", "mfa_type": "otp", "secret_key": info.totp_now("mei")},
        headers=csrf_headers(info, c),
    )
    assert r.status_code == 200, r.text
    key = c.post(KEYS, json={}, headers=csrf_headers(info, c)).json()
    cookies = dict(c.cookies.items())
    ca_pem = Path(info.ca_file).read_bytes() if info.ca_file else b""
    _stop(first)
    state_file = data_dir / "sandbox-state.json"
    assert state_file.stat().st_mode & 0o777 == 0o600
    assert key["secret"] in state_file.read_text()

    second = _start(data_dir, "--no-throttle")  # the human summary this time
    assert second.stdout is not None
    lines = [second.stdout.readline()]
    while lines[-1] and not lines[-1].startswith("Press Ctrl-C"):
        lines.append(second.stdout.readline())
    text = "".join(lines)
    try:
        assert info.url in text
        assert f"jsctl login --url {info.url} --username admin --ca-file {info.ca_file}" in text
        assert info.user("mei").password in text and info.user("mei").totp_secret in text
        assert info.ca_file is not None and Path(info.ca_file).read_bytes() == ca_pem
        wait_ready(info, time.monotonic() + 20)
        again = httpx.Client(base_url=info.url, verify=info.verify, cookies=cookies)
        assert again.get(PROFILE).json()["username"] == "mei"  # same session cookie
        from test_sandbox_access_keys import sign

        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        signed = {
            "Date": date,
            "Authorization": sign("get", PROFILE, date, key["id"], key["secret"]),
        }
        assert httpx.get(info.url + PROFILE, headers=signed, verify=info.verify).status_code == 200
        assert web_login(info, "admin").get(PROFILE).status_code == 200  # same password
    finally:
        _stop(second)
    assert json.loads(state_file.read_text())["port"] == int(info.url.rsplit(":", 1)[1])
    assert os.stat(data_dir).st_mode & 0o777 == 0o700


def test_admin_read_views_platforms_and_nodes(sandbox: SandboxInfo) -> None:
    admin = web_login(sandbox, "admin")
    linux = admin.get("/api/v1/assets/platforms/", params={"name": "Linux"}).json()
    assert [p["name"] for p in linux] == ["Linux"]
    assert {"ssh", "sftp"} <= {p["name"] for p in linux[0]["protocols"]}
    assert admin.get("/api/v1/assets/platforms/", params={"name": "Windows"}).json() == []
    nodes = admin.get("/api/v1/assets/nodes/").json()
    assert nodes[0]["full_value"] == "/DEFAULT" and nodes[0]["org_name"] == "DEFAULT"
    assert all(n["org_name"] == "DEFAULT" for n in nodes)
    everywhere = admin.get("/api/v1/assets/nodes/", headers={"X-JMS-ORG": "root"}).json()
    assert any(n["org_name"] == "Staging" for n in everywhere)
    mei = web_login(sandbox, "mei")
    for path in ("/api/v1/assets/nodes/", "/api/v1/assets/platforms/"):
        r = mei.get(path)
        assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
