"""Connection-token lifecycle and KoKo consumption (sheet 6)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import open_websocket_url

from jsctl_sandbox.testing import SandboxInfo, csrf_headers, running_sandbox, web_login

TOKENS = "/api/v1/authentication/connection-token/"
ASSETS = "/api/v1/perms/users/self/assets/"


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxInfo]:
    """A private sandbox: these tests advance the clock and switch ACL review on."""
    with running_sandbox("--no-throttle") as info:
        yield info


class User:
    """A logged-in user with helpers for token calls."""

    def __init__(self, sb: SandboxInfo, username: str) -> None:
        self.sb = sb
        self.c = web_login(sb, username)

    def asset(self, name: str) -> dict[str, Any]:
        item = self.c.get(ASSETS, params={"search": name}).json()[0]
        detail: dict[str, Any] = self.c.get(f"{ASSETS}{item['id']}/").json()
        return detail

    def post(self, url: str, body: dict[str, Any], **params: str) -> httpx.Response:
        return self.c.post(url, json=body, params=params, headers=csrf_headers(self.sb, self.c))

    def patch(self, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.c.patch(url, json=body or {}, headers=csrf_headers(self.sb, self.c))

    def create(self, asset: dict[str, Any], alias: str, **params: str) -> httpx.Response:
        body = {
            "asset": asset["id"],
            "account": alias,
            "protocol": "ssh",
            "connect_method": "web_cli",
        }
        return self.post(TOKENS, body, **params)


def real_alias(asset: dict[str, Any]) -> str:
    return next(str(a["alias"]) for a in asset["permed_accounts"] if a["alias"][0] != "@")


def test_create_read_expire(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    asset = mei.asset("web-01")
    r = mei.create(asset, real_alias(asset))
    assert r.status_code == 201
    token = r.json()
    assert token["expire_time"] in (299, 300) and token["is_expired"] is False
    assert token["account"] == real_alias(asset) and len(token["value"]) == 16
    assert token["asset"]["id"] == asset["id"] and token["user"]["name"] == "Mei Chen(mei)"
    assert token["from_ticket"] is None and token["is_active"] is True
    assert token["remote_addr"] == "127.0.0.1"
    assert "input_secret" not in token and "input_secret_type" not in token
    assert mei.c.get(f"{TOKENS}{token['id']}/").json()["id"] == token["id"]
    listed = mei.c.get(TOKENS).json()
    assert token["id"] in [t["id"] for t in listed]
    # Other users cannot see it.
    assert User(sb, "admin").c.get(f"{TOKENS}{token['id']}/").status_code == 404
    assert mei.patch(f"{TOKENS}{token['id']}/expire/").status_code == 204
    gone = mei.patch(f"{TOKENS}{token['id']}/expire/")
    assert gone.status_code == 404
    assert gone.json() == {
        "detail": "ConnectionToken object does not exist.",
        "code": "object_does_not_exist",
    }
    assert mei.c.get(f"{TOKENS}{token['id']}/").status_code == 404
    # exchange works on expired tokens
    fresh = mei.post(TOKENS + "exchange/", {"id": token["id"]})
    assert fresh.status_code == 201 and fresh.json()["id"] != token["id"]
    assert fresh.json()["account"] == token["account"]


def test_lifetime_is_300_seconds(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    asset = mei.asset("web-02")
    token = mei.create(asset, "@USER").json()
    sb.control().advance_clock(301)
    assert mei.c.get(f"{TOKENS}{token['id']}/").status_code == 404


@pytest.mark.parametrize(
    "alias", ["deploy", "root", "00000000-0000-0000-0000-000000000009", "VIRTUAL_ID"]
)
def test_perm_account_invalid(sb: SandboxInfo, alias: str) -> None:
    mei = User(sb, "mei")
    asset = mei.asset("db-01")
    if alias == "VIRTUAL_ID":
        alias = next(a["id"] for a in asset["permed_accounts"] if a["alias"] == "@INPUT")
    r = mei.create(asset, alias)
    assert (r.status_code, r.json()) == (
        400,
        {"code": "perm_account_invalid", "detail": "Account not found"},
    )


def test_field_errors(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    r = mei.post(TOKENS, {"asset": "00000000-0000-0000-0000-000000000009"})
    assert r.status_code == 400
    assert set(r.json()) == {"account", "protocol", "connect_method"}
    asset = mei.asset("db-01")
    anon = mei.create(asset, "@ANON")
    assert anon.json() == ["Anonymous account is not supported for this asset"]


def test_reuse_refused_and_delete_rules(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    asset = mei.asset("web-01")
    token = mei.create(asset, "@INPUT").json()
    r = mei.patch(f"{TOKENS}{token['id']}/reuse/", {"is_reusable": True})
    assert (r.status_code, r.json()) == (
        400,
        ["Reusable connection token is not allowed, global setting not enabled"],
    )
    r = mei.c.delete(f"{TOKENS}{token['id']}/", headers=csrf_headers(sb, mei.c))
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    admin = User(sb, "admin")
    own = admin.create(admin.asset("web-01"), "@INPUT").json()
    r = admin.c.delete(f"{TOKENS}{own['id']}/", headers=csrf_headers(sb, admin.c))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]


def test_acl_review_ticket_flow(sb: SandboxInfo) -> None:
    control = sb.control()
    control.set_acl_review(True)
    try:
        mei = User(sb, "mei")
        asset = mei.asset("web-01")
        r = mei.create(asset, "@USER")
        assert r.json() == {"code": "acl_review", "detail": "ACL action is review"}
        token = mei.create(asset, "@USER", create_ticket="1").json()
        assert token["is_active"] is False and token["from_ticket"]["id"]
        check = token["from_ticket_info"]["check_ticket_api"]
        ticket = mei.c.get(check["url"]).json()
        assert (ticket["status"]["value"], ticket["state"]["value"]) == ("open", "pending")
        control.decide_ticket(ticket["id"], approve=True)
        ticket = mei.c.get(check["url"]).json()
        assert (ticket["status"]["value"], ticket["state"]["value"]) == ("closed", "approved")
        assert mei.c.get(f"{TOKENS}{token['id']}/").json()["is_active"] is True
    finally:
        control.set_acl_review(False)


def test_profile_by_token(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    token = mei.create(mei.asset("web-01"), "@USER").json()
    anonymous = httpx.Client(base_url=sb.url, verify=sb.verify)
    r = anonymous.get("/api/v1/users/profile/", params={"token": token["id"]})
    assert r.json()["username"] == "mei"
    mei.patch(f"{TOKENS}{token['id']}/expire/")
    r = anonymous.get("/api/v1/users/profile/", params={"token": token["id"]})
    assert r.status_code == 403 and r.json()["detail"].startswith("Connection token expired at: ")


async def koko_first_message(sb: SandboxInfo, cookies: httpx.Cookies, token_id: str) -> Any:
    context = ssl.create_default_context(cafile=sb.ca_file)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    url = f"{sb.ws_url}/koko/ws/terminal/?token={token_id}"
    async with open_websocket_url(
        url,
        ssl_context=context,
        subprotocols=["JMS-KOKO"],
        extra_headers=[(b"Cookie", cookie.encode())],
    ) as ws:
        with trio.fail_after(10):
            return json.loads(await ws.get_message())


async def test_koko_consumes_tokens(sb: SandboxInfo) -> None:
    mei = User(sb, "mei")
    asset = mei.asset("web-01")
    token = mei.create(asset, real_alias(asset)).json()
    first = await koko_first_message(sb, mei.c.cookies, token["id"])
    assert first["type"] == "CONNECT"
    assert mei.c.get(f"{TOKENS}{token['id']}/").status_code == 404  # consumed
    second = await koko_first_message(sb, mei.c.cookies, token["id"])
    assert second["type"] == "ERROR"
    assert second["err"].startswith("Connection token expired at: ")
    unknown = await koko_first_message(sb, mei.c.cookies, "00000000-0000-0000-0000-000000000000")
    assert (unknown["type"], unknown["err"]) == ("ERROR", "Token invalid")
    counters = sb.control().counters()
    assert counters["tokens_consumed"] >= 1
