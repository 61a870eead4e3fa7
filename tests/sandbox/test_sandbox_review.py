"""Login ACL review ("login confirm") in the sandbox: form guard and token API (sheet 3.6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jsctl_sandbox.testing import (
    SandboxFactory,
    SandboxInfo,
    csrf_headers,
    running_sandbox,
    web_login,
)

LOGIN = "/core/auth/login/"
GUARD = "/core/auth/login/guard/"
MFA = "/core/auth/login/mfa/"
WAIT = "/core/auth/login/wait-confirm/"
STATUS = "/api/v1/authentication/login-confirm-ticket/status/"
TOKEN = "/api/v1/authentication/auth/"
PROFILE = "/api/v1/users/profile/"
NOT_FOUND = {
    "error": "login_confirm_error",
    "msg": "Login confirm ticket was Not found",
    "data": {"ticket_id": "", "username": ""},
}


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxInfo]:
    """A private sandbox: these tests switch login review on and decide tickets."""
    with running_sandbox("--no-throttle") as info:
        yield info


@pytest.fixture
def review(sb: SandboxInfo) -> Iterator[None]:
    """Logins of admin and mei wait for review during the test (one user at a time)."""
    yield
    sb.control().set_login_review(None)


def client(sb: SandboxInfo) -> httpx.Client:
    return httpx.Client(base_url=sb.url, verify=sb.verify, timeout=10)


def password_step(sb: SandboxInfo, c: httpx.Client, username: str) -> str:
    """GET + POST the login form (and the MFA page if needed); returns the guard's Location."""
    headers = {"Origin": sb.url, "Referer": sb.url + LOGIN}
    c.get(LOGIN)
    user = sb.user(username)
    form = {
        "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
        "username": username,
        "password": user.password,
    }
    assert c.post(LOGIN, data=form, headers=headers).headers["location"] == GUARD
    location = c.get(GUARD).headers["location"]
    if location == MFA:
        form = {
            "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
            "mfa_type": "otp",
            "code": sb.totp_now(username),
        }
        response = c.post(MFA, data=form, headers=headers)
        location = c.get(response.headers["location"]).headers["location"]
    return str(location)


def waiting_ticket(sb: SandboxInfo, c: httpx.Client, username: str) -> dict[str, Any]:
    """Put ``username``'s logins under review and log in with ``c`` up to the wait page; the
    pending ticket."""
    control = sb.control()
    control.set_login_review(username)
    assert password_step(sb, c, username) == WAIT
    ticket = control.login_ticket(username)
    assert ticket is not None
    return ticket


def status(c: httpx.Client) -> Any:
    response = c.get(STATUS)
    assert response.status_code == 200
    return response.json()


def test_form_login_waits_then_finishes_after_approval(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    with client(sb) as c:
        ticket = waiting_ticket(sb, c, "admin")
        assert ticket["state"] == "pending" and ticket["status"] == "open"
        assert ticket["title"] == "Login confirm Administrator(admin)"
        page = c.get(WAIT)
        assert page.status_code == 200 and ticket["id"] in page.text
        assert status(c) == {
            "error": "login_confirm_wait",
            "msg": "Wait login confirm ticket for accept",
            "data": {"ticket_id": ticket["id"]},
        }
        assert c.get(GUARD).headers["location"] == WAIT  # still pending: same ticket
        assert control.login_ticket("admin") == ticket
        assert c.get(PROFILE).status_code == 401  # not logged in while waiting
        control.decide_ticket(ticket["id"], approve=True)
        assert status(c) == {"msg": "ok"}
        half_session = c.cookies["jms_sessionid"]
        final = c.get(GUARD)
        assert final.status_code == 302 and final.headers["location"] == "/"
        assert c.cookies["jms_sessionid"] != half_session  # the key cycles at login
        assert c.get(PROFILE).json()["username"] == "admin"


def test_mfa_comes_before_the_review(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    control.set_login_review("mei")
    with client(sb) as c:
        c.get(LOGIN)
        form = {
            "csrfmiddlewaretoken": c.cookies["jms_csrftoken"],
            "username": "mei",
            "password": sb.user("mei").password,
        }
        headers = {"Origin": sb.url, "Referer": sb.url + LOGIN}
        before = len(control.tickets())
        c.post(LOGIN, data=form, headers=headers)
        assert c.get(GUARD).headers["location"] == MFA
        assert len(control.tickets()) == before  # no ticket until MFA passed
    with client(sb) as c:
        assert password_step(sb, c, "mei") == WAIT
        ticket = control.login_ticket("mei")
        assert ticket is not None
        control.decide_ticket(ticket["id"], approve=True)
        assert c.get(GUARD).headers["location"] == "/"
        assert c.get(PROFILE).json()["username"] == "mei"


def test_rejection_ends_and_logs_out_the_half_login(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    with client(sb) as c:
        ticket = waiting_ticket(sb, c, "admin")
        control.decide_ticket(ticket["id"], approve=False)
        assert c.get(GUARD).headers["location"] == WAIT  # before anyone polls
        rejected = {
            "error": "login_confirm_error",
            "msg": "Login confirm ticket was Ticket rejected",
            "data": {"ticket_id": ticket["id"], "username": "admin"},
        }
        assert status(c) == rejected
        assert status(c) == rejected  # the ticket reference survives the logout
        assert c.get(GUARD).headers["location"] == LOGIN  # the half-login is gone
        assert c.get(PROFILE).status_code == 401
        withdrawn = c.delete(STATUS)  # too late to withdraw: the ticket stays rejected
        assert withdrawn.status_code == 400
        assert withdrawn.json() == {"detail": "Ticket already closed", "code": "error"}
        assert control.login_ticket("admin") == {**ticket, "state": "rejected", "status": "closed"}
        assert status(c) == NOT_FOUND  # the session forgot the ticket
        with pytest.raises(httpx.HTTPStatusError):  # a closed ticket cannot be decided again
            control.decide_ticket(ticket["id"], approve=True)


def test_cancel_closes_the_ticket(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    with client(sb) as c:
        first = waiting_ticket(sb, c, "admin")
        response = c.delete(STATUS)
        assert response.status_code == 200 and response.json() == ""
        assert control.login_ticket("admin") == {**first, "state": "closed", "status": "closed"}
        # The guard of the still half-logged-in session asks for a new review.
        assert c.get(GUARD).headers["location"] == WAIT
        second = control.login_ticket("admin")
        assert second is not None and second["id"] != first["id"]
        assert c.delete(STATUS).json() == ""
        assert status(c) == NOT_FOUND
        assert c.get(GUARD).headers["location"] == LOGIN  # that poll logged the session out


def test_status_without_a_login_is_not_found(sb: SandboxInfo) -> None:
    with client(sb) as c:
        assert status(c) == NOT_FOUND
        assert c.delete(STATUS).json() == ""


def test_token_api_waits_then_issues_a_token(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    control.set_login_review("admin")
    with client(sb) as c:
        credentials = {"username": "admin", "password": sb.user("admin").password}
        first = c.post(TOKEN, json=credentials)
        assert first.status_code == 200
        body = first.json()
        assert body["error"] == "login_confirm_wait"
        ticket_id = body["data"]["ticket_id"]
        assert c.post(TOKEN, json={}).json() == body  # the session remembers the password
        assert status(c) == body
        control.decide_ticket(ticket_id, approve=True)
        issued = c.post(TOKEN, json={})
        assert issued.status_code == 201
        token = issued.json()["token"]
    with client(sb) as other:
        me = other.get(PROFILE, headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "admin"


def test_token_api_reports_a_rejection(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    control.set_login_review("admin")
    with client(sb) as c:
        credentials = {"username": "admin", "password": sb.user("admin").password}
        ticket_id = c.post(TOKEN, json=credentials).json()["data"]["ticket_id"]
        control.decide_ticket(ticket_id, approve=False)
        answer = c.post(TOKEN, json={})
        assert answer.status_code == 200
        assert answer.json() == {
            "error": "login_confirm_error",
            "msg": "Login confirm ticket was Ticket rejected",
            "data": {"ticket_id": ticket_id, "username": "admin"},
        }


def test_review_off_and_control_checks(sb: SandboxInfo, review: None) -> None:
    control = sb.control()
    control.set_login_review("admin")
    assert control.info()["login_review_users"] == ["admin"]
    with client(sb) as c:
        assert password_step(sb, c, "mei") == "/"  # only admin is under review
    control.reset()
    assert control.info()["login_review_users"] == []
    with client(sb) as c:
        assert password_step(sb, c, "admin") == "/"
    with pytest.raises(httpx.HTTPStatusError):
        control.set_login_review("nobody")


def close_as_admin(sb: SandboxInfo, ticket_id: str) -> None:
    """An administrator closes a ticket through the ticket API."""
    admin = web_login(sb, "admin")
    try:
        url = f"/api/v1/tickets/tickets/{ticket_id}/close/"
        assert admin.put(url, headers=csrf_headers(sb, admin)).status_code == 200
    finally:
        admin.close()


def test_a_closed_ticket_ends_the_wait(sb: SandboxInfo, review: None) -> None:
    with client(sb) as c:
        ticket = waiting_ticket(sb, c, "mei")
        close_as_admin(sb, ticket["id"])
        assert status(c) == {
            "error": "login_confirm_error",
            "msg": "Login confirm ticket was Ticket closed",
            "data": {"ticket_id": ticket["id"], "username": "mei"},
        }


def test_older_versions_name_states_differently(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--server-version", "4.10.15") as old:
        control = old.control()
        with client(old) as c:
            ticket = waiting_ticket(old, c, "mei")
            control.decide_ticket(ticket["id"], approve=False)
            assert status(c)["msg"] == "Login confirm ticket was Rejected"
        with client(old) as c:
            assert password_step(old, c, "mei") == WAIT
            ticket = control.login_ticket("mei")
            assert ticket is not None
            close_as_admin(old, ticket["id"])
            assert status(c)["msg"] == "Login confirm ticket was Cancel"
