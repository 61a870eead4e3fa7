"""Confirm gate, access keys and HTTP Signature verification (sheet 4.2, 4.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate
from typing import Any

import httpx

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, csrf_headers, web_login

KEYS = "/api/v1/authentication/access-keys/"
CONFIRM = "/api/v1/authentication/confirm/"
ASSETS = "/api/v1/perms/users/self/assets/"


def sign(
    method: str,
    target: str,
    date: str,
    key_id: str,
    secret: str,
    headers: str = "(request-target) date",
) -> str:
    lines = []
    for name in headers.split():
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        else:
            lines.append(f"date: {date}")
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    return (
        f'Signature keyId="{key_id}",algorithm="hmac-sha256",headers="{headers}",'
        f'signature="{signature}"'
    )


def create_key(sb: SandboxInfo, c: httpx.Client, username: str) -> dict[str, Any]:
    user = sb.user(username)
    h = csrf_headers(sb, c)
    if user.totp_secret:
        body = {"confirm_type": "password", "mfa_type": "otp", "secret_key": sb.totp_now(username)}
    else:
        body = {"confirm_type": "password", "secret_key": user.password}
    r = c.post(CONFIRM, json=body, headers=h)
    assert (r.status_code, r.json()) == (200, "ok")
    r = c.post(KEYS, json={"ip_group": ["*"]}, headers=h)
    assert r.status_code == 201, r.text
    key: dict[str, Any] = r.json()
    return key


def test_signing_string_of_the_sheet_example(sandbox: SandboxInfo) -> None:
    """The sheet's vector, checked through a real signed request."""
    c = web_login(sandbox, "admin")
    key = create_key(sandbox, c, "admin")
    date = "Tue, 07 Jan 2025 10:00:00 GMT"  # clock skew is not enforced
    target = "/api/v1/perms/users/self/assets/?limit=1&offset=0"
    expected_string = (
        "(request-target): get /api/v1/perms/users/self/assets/?limit=1&offset=0\n"
        "date: Tue, 07 Jan 2025 10:00:00 GMT"
    )
    sig = base64.b64encode(
        hmac.new(key["secret"].encode(), expected_string.encode(), hashlib.sha256).digest()
    ).decode()
    auth = (
        f'Signature keyId="{key["id"]}",algorithm="hmac-sha256",'
        f'headers="(request-target) date",signature="{sig}"'
    )
    fresh = httpx.Client(base_url=sandbox.url, verify=sandbox.verify)
    r = fresh.get(target, headers={"Date": date, "Authorization": auth})
    assert r.status_code == 200 and r.json()["count"] >= 1
    # An upper-case method in the signing string fails.
    upper = base64.b64encode(
        hmac.new(
            key["secret"].encode(), expected_string.replace("get ", "GET ").encode(), hashlib.sha256
        ).digest()
    ).decode()
    r = fresh.get(target, headers={"Date": date, "Authorization": auth.replace(sig, upper)})
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid signature.", "code": "authentication_failed"}


def test_confirm_gate_and_key_lifecycle(sandbox: SandboxInfo) -> None:
    sandbox.control().clear_access_keys("mei")  # the shared server keeps at most 10 per user
    c = web_login(sandbox, "mei")
    h = csrf_headers(sandbox, c)
    r = c.post(KEYS, json={}, headers=h)
    assert r.status_code == 412
    assert r.json() == {
        "type": "user_confirm_required",
        "code": "password",
        "detail": "This action require confirm current user",
    }
    info = c.get(CONFIRM, params={"confirm_type": "password"}).json()
    assert info["confirm_type"] == "mfa" and info["content"][0]["name"] == "otp"
    assert c.get(CONFIRM + "check/", params={"confirm_type": "password"}).status_code == 412
    wrong = c.post(
        CONFIRM,
        json={"confirm_type": "password", "mfa_type": "otp", "secret_key": "000000"},
        headers=h,
    )
    assert wrong.status_code == 400 and "error" in wrong.json()
    crash = c.post(CONFIRM, json={"confirm_type": "password", "secret_key": "x"}, headers=h)
    assert (crash.status_code, crash.json()) == (500, {"error": "Server internal error"})
    key = create_key(sandbox, c, "mei")
    assert len(key["secret"]) == 36 and key["ip_group"] == ["*"]
    assert c.get(CONFIRM + "check/", params={"confirm_type": "password"}).json() == "ok"
    assert c.get(CONFIRM + "check/", params={"confirm_type": "mfa"}).json()["code"] == "mfa"
    listed = c.get(KEYS).json()
    assert any(k["id"] == key["id"] and "secret" not in k for k in listed)
    # A signed request works, then PATCH is_active=false makes it fail, DELETE removes it.
    signed = httpx.Client(base_url=sandbox.url, verify=sandbox.verify)
    date = formatdate(usegmt=True)

    def call() -> httpx.Response:
        auth = sign("get", ASSETS, date, key["id"], key["secret"])
        return signed.get(ASSETS, headers={"Date": date, "Authorization": auth})

    assert call().status_code == 200
    r = c.patch(f"{KEYS}{key['id']}/", json={"is_active": False}, headers=h)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert call().status_code == 401
    r = c.patch(
        f"{KEYS}{key['id']}/", json={"is_active": True, "ip_group": ["192.0.2.0/24"]}, headers=h
    )
    r = call()
    assert r.json() == {"detail": "Ip is not in access ip list.", "code": "authentication_failed"}
    assert c.delete(f"{KEYS}{key['id']}/", headers=h).status_code == 204
    assert c.get(f"{KEYS}{key['id']}/").status_code == 404


def test_signature_server_errors_are_html_500(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    key = create_key(sandbox, c, "admin")
    fresh = httpx.Client(base_url=sandbox.url, verify=sandbox.verify)
    date = formatdate(usegmt=True)
    no_date = fresh.get(
        ASSETS, headers={"Authorization": sign("get", ASSETS, date, key["id"], key["secret"])}
    )
    unknown = fresh.get(
        ASSETS,
        headers={
            "Date": date,
            "Authorization": sign(
                "get", ASSETS, date, "00000000-0000-0000-0000-000000000000", key["secret"]
            ),
        },
    )
    only_date = fresh.get(
        ASSETS,
        headers={
            "Date": date,
            "Authorization": sign("get", ASSETS, date, key["id"], key["secret"], headers="date"),
        },
    )
    for r in (no_date, only_date):
        assert r.status_code == 500
        assert r.headers["content-type"].startswith("text/html")
    # An unknown (or revoked) key id is a 401 with the challenge (verified 2026-12-06).
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"detail": "Invalid signature.", "code": "authentication_failed"},
    )
    challenge = 'Signature realm="api",headers="(request-target) date"'
    assert unknown.headers["www-authenticate"] == challenge


def test_ten_key_limit(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        c = web_login(sb, "admin")
        for _ in range(10):
            create_key(sb, c, "admin")
        r = c.post(KEYS, json={}, headers=csrf_headers(sb, c))
        assert (r.status_code, r.json()) == (400, ["Access keys can be created at most 10"])
