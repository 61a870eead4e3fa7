"""The HTML web login of the sandbox, replayed with plain httpx (sheet 3.1-3.5)."""

from __future__ import annotations

import base64
import io
import re
import secrets
import string
from collections.abc import Iterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from PIL import Image

from jsctl_sandbox.testing import SandboxInfo, running_sandbox, web_login

LOGIN = "/core/auth/login/"


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxInfo]:
    """A private sandbox: these tests mark IPs for captcha and advance the clock."""
    with running_sandbox("--no-throttle") as info:
        yield info


def client(sb: SandboxInfo, ip: str | None = None) -> httpx.Client:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return httpx.Client(base_url=sb.url, verify=sb.verify, headers=headers, timeout=10)


def form_headers(sb: SandboxInfo) -> dict[str, str]:
    return {"Origin": sb.url, "Referer": sb.url + LOGIN}


def encrypt(cookie: str, password: str, separator: str = ":") -> str:
    """The browser's password envelope (sheet 3.3)."""
    pem = base64.b64decode(cookie.strip('"'))
    key = serialization.load_pem_public_key(pem)
    assert isinstance(key, rsa.RSAPublicKey)
    aes_key = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(11))
    key_cipher = base64.b64encode(key.encrypt(aes_key.encode(), padding.PKCS1v15())).decode()
    raw = password.encode()
    raw += b"\0" * (-len(raw) % 16)
    enc = Cipher(algorithms.AES(aes_key.encode().ljust(16, b"\0")), modes.ECB()).encryptor()
    pw_cipher = base64.b64encode(enc.update(raw) + enc.finalize()).decode()
    return key_cipher + separator + pw_cipher


def post_login(
    sb: SandboxInfo, c: httpx.Client, username: str, password: str, **extra: str
) -> httpx.Response:
    data = {
        "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
        "username": username,
        "password": password,
        **extra,
    }
    return c.post(LOGIN, data=data, headers=form_headers(sb))


def post_mfa(sb: SandboxInfo, c: httpx.Client, code: str) -> httpx.Response:
    """POST an OTP code to the MFA page of a half-logged-in jar."""
    data = {"csrfmiddlewaretoken": c.cookies["jms_csrftoken"], "mfa_type": "otp", "code": code}
    return c.post("/core/auth/login/mfa/", data=data, headers=form_headers(sb))


def error_text(html: str) -> str:
    match = re.search(r'<p class="help-block red-fonts">(.*?)</p>', html)
    assert match, html
    return match.group(1)


def test_login_page_sets_cookies_and_form(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.1")
    r = c.get(LOGIN + "?admin=1")
    assert r.status_code == 200
    assert '<form id="login-form"' in r.text and 'name="csrfmiddlewaretoken"' in r.text
    assert "no-captcha-challenge" in r.text
    for name in ("jms_csrftoken", "jms_sessionid", "jms_public_key", "SESSION_COOKIE_NAME_PREFIX"):
        assert name in c.cookies
    assert len(c.cookies["jms_csrftoken"]) == 32
    assert c.cookies["SESSION_COOKIE_NAME_PREFIX"] == "jms_"
    pem = base64.b64decode(c.cookies["jms_public_key"])
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert not c.cookies["jms_public_key"].endswith("=")  # bare, no padding, like v4.10.16


def test_full_login_with_mfa_and_encrypted_password(sb: SandboxInfo) -> None:
    mei = sb.user("mei")
    c = client(sb, "10.1.0.2")
    c.get(LOGIN)
    old_session, old_csrf = c.cookies["jms_sessionid"], c.cookies["jms_csrftoken"]
    r = post_login(sb, c, "mei", encrypt(c.cookies["jms_public_key"], mei.password))
    assert (r.status_code, r.headers["location"]) == (302, "/core/auth/login/guard/")
    r = c.get("/core/auth/login/guard/")
    assert r.headers["location"] == "/core/auth/login/mfa/"
    page = c.get("/core/auth/login/mfa/")
    assert '<select id="mfa-select" name="mfa_type"' in page.text
    assert '<option value="otp"' in page.text
    r = post_mfa(sb, c, "000000")
    assert r.status_code == 200 and '<p class="red-fonts">' in r.text
    r = post_mfa(sb, c, sb.totp_now("mei"))
    assert r.headers["location"] == "/core/auth/login/guard/?_=mfa_ok"
    r = c.get(r.headers["location"])
    assert (r.status_code, r.headers["location"]) == (302, "/")
    assert c.cookies["jms_sessionid"] != old_session
    assert c.cookies["jms_csrftoken"] != old_csrf
    assert c.cookies["django_language"] == "en"
    assert c.get("/api/v1/users/profile/").json()["username"] == "mei"
    # A logged-in jar is bounced away from the login page.
    r = c.get(LOGIN + "?next=/ui/")
    assert (r.status_code, r.headers["location"]) == (302, "/ui/")
    assert c.get(LOGIN + "?next=https://evil.example/").headers["location"] == "/"


def test_wrong_separator_is_a_wrong_password(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.3")
    c.get(LOGIN)
    cipher = encrypt(c.cookies["jms_public_key"], sb.user("admin").password, "::encrypted::")
    r = post_login(sb, c, "admin", cipher)
    assert r.status_code == 200
    assert "try 7 times" in error_text(r.text)
    web_login(sb, "admin")  # resets the failure counter for admin


def test_next_is_carried_through_the_guard(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.4")
    c.get(LOGIN + "?next=/ui/")
    r = c.post(
        LOGIN + "?next=/ui/",
        headers=form_headers(sb),
        data={
            "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
            "username": "admin",
            "password": sb.user("admin").password,
        },
    )
    assert r.headers["location"] == "/core/auth/login/guard/?next=%2Fui%2F"
    assert c.get(r.headers["location"]).headers["location"] == "/ui/"


@pytest.mark.parametrize(
    "headers, token",
    [
        ({"Origin": "https://evil.example"}, "good"),
        ({"Origin": "ORIGIN"}, ""),
        ({"Origin": "ORIGIN"}, "x" * 32),
        ({"X-Forwarded-Proto": "https"}, "good"),  # behind a proxy: Referer rule applies
    ],
)
def test_csrf_failures_redirect(sb: SandboxInfo, headers: dict[str, str], token: str) -> None:
    c = client(sb, "10.1.0.5")
    c.get(LOGIN)
    value = c.cookies["jms_csrftoken"] if token == "good" else token
    sent = {k: (sb.url if v == "ORIGIN" else v) for k, v in headers.items()}
    r = c.post(
        LOGIN,
        headers=sent,
        data={
            "csrfmiddlewaretoken": value,
            "username": "admin",
            "password": sb.user("admin").password,
        },
    )
    assert (r.status_code, r.headers["location"]) == (
        302,
        "/core/auth/login/?csrf_failure=1&admin=1",
    )


def test_masked_form_token_is_accepted(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.6")
    page = c.get(LOGIN).text
    masked = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert masked and len(masked.group(1)) == 64
    r = c.post(
        LOGIN,
        headers=form_headers(sb),
        data={
            "csrfmiddlewaretoken": masked.group(1),
            "username": "admin",
            "password": sb.user("admin").password,
        },
    )
    assert r.status_code == 302


def test_post_without_test_cookie_is_a_login_timeout(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.7")
    c.get(LOGIN)
    c.cookies.delete("jms_sessionid")
    r = post_login(sb, c, "admin", sb.user("admin").password)
    assert r.status_code == 200 and "Login timeout" in error_text(r.text)


def test_captcha_after_a_failure_per_ip(sb: SandboxInfo) -> None:
    ip = "10.1.0.8"
    c = client(sb, ip)
    c.get(LOGIN)
    r = post_login(sb, c, "nobody", "wrong")
    assert "The username or password you entered is incorrect" in error_text(r.text)
    assert c.cookies["jms_csrftoken"]
    page = c.get(LOGIN).text
    key = re.search(
        r'<img src="/core/auth/captcha/image/([0-9a-f]+)/" alt="captcha" class="captcha"', page
    )
    assert key and 'name="captcha_0"' in page and "no-captcha-challenge" not in page
    image = c.get(f"/core/auth/captcha/image/{key.group(1)}/")
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (180, 38)
    # Another IP is not marked.
    assert "no-captcha-challenge" in client(sb, "10.1.0.9").get(LOGIN).text
    # Wrong answer.
    r = post_login(
        sb, c, "admin", sb.user("admin").password, captcha_0=key.group(1), captcha_1="-1"
    )
    assert '<div class="help-block">Invalid CAPTCHA</div>' in r.text
    # Right answer (from the control API).
    key2 = re.search(r"captcha/image/([0-9a-f]+)/", r.text)
    assert key2
    answer = sb.control().captcha_answer(key2.group(1))
    r = post_login(
        sb, c, "admin", sb.user("admin").password, captcha_0=key2.group(1), captcha_1=answer
    )
    assert r.status_code == 302


def test_captcha_refresh_needs_xhr(sb: SandboxInfo) -> None:
    c = client(sb)
    assert c.get("/core/auth/captcha/refresh/").status_code == 404
    r = c.get("/core/auth/captcha/refresh/", headers={"X-Requested-With": "XMLHttpRequest"})
    body = r.json()
    assert body["image_url"] == f"/core/auth/captcha/image/{body['key']}/"
    assert body["audio_url"] is None


def test_half_login_expires_after_600_seconds(sb: SandboxInfo) -> None:
    c = client(sb, "10.1.0.10")
    c.get(LOGIN)
    post_login(sb, c, "mei", sb.user("mei").password)
    sb.control().advance_clock(601)
    r = post_mfa(sb, c, sb.totp_now("mei"))
    assert r.headers["location"] == "/core/auth/login/guard/?_=session_empty"
    assert c.get(r.headers["location"]).headers["location"] == LOGIN + "?_=session_empty"


def test_logout(sb: SandboxInfo) -> None:
    c = web_login(sb, "admin")
    c.headers["X-Forwarded-For"] = "10.1.0.11"
    old_session = c.cookies["jms_sessionid"]
    r = c.get("/core/auth/logout/")
    assert c.cookies["jms_sessionid"] != old_session
    stale = client(sb).get(
        "/api/v1/users/profile/", headers={"Cookie": f"jms_sessionid={old_session}"}
    )
    assert stale.status_code == 401
    assert r.status_code == 200 and "Logout success" in r.text
    assert c.get("/api/v1/users/profile/").status_code == 401
    assert c.get("/api/v1/authentication/user-session/").status_code == 403


def test_home_redirects_anonymous_to_login(sb: SandboxInfo) -> None:
    r = client(sb).get("/")
    assert (r.status_code, r.headers["location"]) == (302, "/core/auth/login/?next=/")
