"""The core's public settings as the real server serves them (apps/settings/api/public.py):
the open four fields for anyone, every field, with SECURITY_MAX_IDLE_TIME, for a valid user."""

from __future__ import annotations

import httpx

from jsctl_sandbox.testing import SandboxInfo, web_login

PUBLIC = "/api/v1/settings/public/"
OPEN = "/api/v1/settings/public/open/"


def _client(sandbox: SandboxInfo) -> httpx.Client:
    return httpx.Client(base_url=sandbox.url, verify=sandbox.verify, timeout=10)


def test_open_settings_answer_anyone_without_the_idle_limit(sandbox: SandboxInfo) -> None:
    body = _client(sandbox).get(OPEN).json()
    assert sorted(body) == ["INTERFACE", "LANGUAGES", "VENDOR", "XPACK_ENABLED"]


def test_public_settings_need_a_user_and_carry_koko_idle_limit(sandbox: SandboxInfo) -> None:
    anonymous = _client(sandbox).get(PUBLIC)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"] == "Authentication credentials were not provided."
    assert _client(sandbox).get(PUBLIC, params={"token": "not-a-token"}).status_code == 401
    user = web_login(sandbox, "admin")  # the web session's cookie, as Luna reads it
    body = user.get(PUBLIC).json()
    assert body["SECURITY_MAX_IDLE_TIME"] == 30  # KoKo's default, whole minutes
    assert {"XPACK_ENABLED", "SECURITY_MAX_SESSION_TIME"} - set(body) == {
        "SECURITY_MAX_SESSION_TIME"  # not a public setting on the real server either
    }
    assert len(body) > 60 and isinstance(body["PASSWORD_RULE"], dict)
    sandbox.control().koko(idle_timeout_s=5 * 60)  # the administrator changes it
    try:
        body = user.get(PUBLIC).json()
        assert body["SECURITY_MAX_IDLE_TIME"] == 5
    finally:
        sandbox.control().reset()
