"""Token login, Bearer/private tokens, REST CSRF, sessions and cookies (sheet 1-3.8, 4.1)."""

from __future__ import annotations

import re

import httpx
import pytest

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, csrf_headers, web_login

AUTH = "/api/v1/authentication/auth/"
PROFILE = "/api/v1/users/profile/"


def client(sb: SandboxInfo, ip: str = "10.2.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=sb.url, verify=sb.verify, timeout=10, headers={"X-Forwarded-For": ip}
    )


def test_token_login_without_mfa(sandbox: SandboxInfo) -> None:
    c = client(sandbox)
    r = c.post(AUTH, json={"username": "admin", "password": sandbox.user("admin").password})
    assert r.status_code == 201
    body = r.json()
    assert body["keyword"] == "Bearer" and len(body["token"]) == 36
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d [+-]\d{4}", body["date_expired"])
    assert body["user"]["username"] == "admin" and "org_roles" in body["user"]
    again = c.post(AUTH, json={"username": "admin", "password": sandbox.user("admin").password})
    assert again.json()["token"] == body["token"]  # one token per (user, IP)
    other_ip = client(sandbox, "10.2.0.99").post(
        AUTH, json={"username": "admin", "password": sandbox.user("admin").password}
    )
    assert other_ip.json()["token"] != body["token"]
    bearer = httpx.Client(base_url=sandbox.url, verify=sandbox.verify)
    profile = bearer.get(PROFILE, headers={"Authorization": f"Bearer {body['token']}"})
    assert profile.status_code == 200 and "org_roles" not in profile.json()
    # The token-API cookie is not a logged-in session.
    assert c.get(PROFILE).status_code == 401


def test_token_login_with_mfa(sandbox: SandboxInfo) -> None:
    mei = sandbox.user("mei")
    c = client(sandbox, "10.2.0.2")
    r = c.post(AUTH, json={"username": "mei", "password": mei.password, "code": "123"})
    assert r.status_code == 200
    assert r.json() == {
        "error": "mfa_required",
        "msg": "MFA required",
        "data": {"choices": ["otp"], "url": "/api/v1/authentication/mfa/challenge/"},
    }
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("jms_sessionid="))
    assert "Max-Age=600" in cookie
    sent = c.post("/api/v1/authentication/mfa/send-code/", json={"type": "otp"})
    assert (sent.status_code, sent.json()) == (201, {"type": "otp", "username": "mei"})
    bad_type = c.post("/api/v1/authentication/mfa/send-code/", json={"type": "sms"})
    assert bad_type.json() == {"error": "Current user not support mfa type: sms"}
    wrong = c.post("/api/v1/authentication/mfa/challenge/", json={"type": "otp", "code": "1"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "mfa_failed"
    ok = c.post(
        "/api/v1/authentication/mfa/challenge/",
        json={"type": "otp", "code": sandbox.totp_now("mei")},
    )
    assert (ok.status_code, ok.json()) == (200, {"msg": "ok"})
    done = c.post(AUTH, json={})
    assert done.status_code == 201 and done.json()["user"]["username"] == "mei"
    again = c.post(AUTH)
    assert (again.status_code, again.json()["error"]) == (400, "password_failed")


def test_mfa_challenge_without_half_login_is_401(sandbox: SandboxInfo) -> None:
    r = client(sandbox).post(
        "/api/v1/authentication/mfa/challenge/", json={"type": "otp", "code": "123456"}
    )
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_bad_password_and_form_encoding(sandbox: SandboxInfo) -> None:
    c = client(sandbox, "10.2.0.3")
    r = c.post(AUTH, data={"username": "ghost", "password": "x"})
    assert r.status_code == 400 and r.json()["error"] == "password_failed"
    assert "try 7 times" in r.json()["msg"]
    # Token-API failures do not mark the IP for captcha.
    assert "no-captcha-challenge" in c.get("/core/auth/login/").text


def test_unauthenticated_is_401_with_challenge(sandbox: SandboxInfo) -> None:
    r = client(sandbox).get(PROFILE)
    assert r.status_code == 401
    assert r.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert r.headers["www-authenticate"] == 'Signature realm="api",headers="(request-target) date"'


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Bearer a b", "Invalid token header. Sign string should not contain spaces."),
        ("Token 0123456789abcdef0123456789abcdef01234567", "Invalid token."),
    ],
)
def test_broken_authorization_headers(sandbox: SandboxInfo, header: str, detail: str) -> None:
    r = client(sandbox).get(PROFILE, headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json() == {"detail": detail, "code": "authentication_failed"}


def test_unknown_bearer_falls_through_to_the_session(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    r = c.get(PROFILE, headers={"Authorization": "Bearer 00000000-0000-0000-0000-000000000000"})
    assert r.status_code == 200


def test_rest_csrf_for_cookie_sessions(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    url = "/api/v1/authentication/connection-token/"
    r = c.post(url, json={})
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"
    assert r.json()["detail"].startswith("CSRF Failed: ")
    r = c.post(url, json={}, headers={"X-CSRFToken": "x" * 32, "Origin": sandbox.url})
    assert r.json()["detail"] == (
        "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."
    )
    r = c.post(url, json={}, headers={**csrf_headers(sandbox, c), "Origin": "https://evil.test"})
    assert r.json()["detail"] == (
        "CSRF Failed: Origin checking failed - https://evil.test does not match any trusted "
        "origins."
    )
    r = c.post(url, json={}, headers=csrf_headers(sandbox, c))
    assert r.status_code == 400  # passed CSRF, failed validation
    # Token login from a logged-in jar needs CSRF too.
    r = c.post(AUTH, json={"username": "admin", "password": sandbox.user("admin").password})
    assert r.status_code == 403


def test_user_session_probe(sandbox: SandboxInfo) -> None:
    r = client(sandbox).get("/api/v1/authentication/user-session/")
    assert (r.status_code, r.content) == (403, b"")
    c = web_login(sandbox, "admin")
    r = c.get("/api/v1/authentication/user-session/")
    assert (r.status_code, r.json()) == (200, {"ok": True})
    cookie = next(v for v in r.headers.get_list("set-cookie") if v.startswith("jms_sessionid="))
    assert "Max-Age=86400" in cookie  # sliding expiry re-issued on every request
    assert "jms_public_key" not in r.headers.get("set-cookie", "")  # only on non-/api/ paths


def test_sliding_session_and_control_expiry(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--session-age", "100") as sb:
        c = web_login(sb, "admin")
        control = sb.control()
        for _ in range(3):
            control.advance_clock(60)  # 180 s total, but each request slides the 100 s age
            assert c.get(PROFILE).status_code == 200
        control.advance_clock(101)
        assert c.get(PROFILE).status_code == 401
        c = web_login(sb, "admin")
        assert control.expire_sessions() >= 1
        assert c.get(PROFILE).status_code == 401


def test_org_resolution(sandbox: SandboxInfo) -> None:
    c = web_login(sandbox, "admin")
    url = "/api/v1/orgs/orgs/current/"
    assert c.get(url).json()["is_default"] is True
    assert c.get(url, headers={"X-JMS-ORG": "ROOT"}).json()["name"] == "GLOBAL"
    assert c.get(url, headers={"X-JMS-ORG": "system"}).json()["is_system"] is True
    assert c.get(url, headers={"X-JMS-ORG": "garbage"}).json()["is_default"] is True
    perms = c.get("/api/v1/users/profile/permissions/").json()
    staging = next(o for o in perms["workbench_orgs"] if o["name"] == "Staging")
    assert c.get(url, params={"oid": staging["id"]}).json()["name"] == "Staging"
    mei = web_login(sandbox, "mei")
    assert mei.get("/api/v1/orgs/orgs/").status_code == 403
