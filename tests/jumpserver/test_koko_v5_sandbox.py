"""v5 KoKo auth in the sandbox, as read from koko `pkg/auth` (SERVER-V5.md): signed headers,
connect tickets, their errors byte for byte, and v4's cookie-only behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket

from jsctl_daemon.jumpserver.api import JumpServerAPI
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import LoginRequired
from jsctl_daemon.jumpserver.koko import KokoTerminal, open_terminal
from jsctl_daemon.jumpserver.koko_auth import (
    KokoCredentials,
    KokoHeaderAuth,
    probe_header_auth,
    signed_profile_headers,
)
from jsctl_daemon.jumpserver.signature import AccessKey, signature_header
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, running_sandbox

from .conftest import WAIT_S, logged_in, read_until

TICKETS = "/koko/api/connect-ticket/"
TERMINAL = "/koko/ws/terminal/"


@pytest.fixture(scope="module")
def v5() -> Iterator[SandboxInfo]:
    with running_sandbox("--no-throttle", "--server-version", "5.0") as info:
        yield info


async def _token(conn: Connection) -> str:
    api = JumpServerAPI(conn)
    asset = next(a for a in await api.assets() if a.name == "web-01")
    detail = await api.asset(asset.id)
    account = next(a for a in detail.accounts if not a.is_virtual)
    return (await api.create_connection_token(asset.id, account.alias)).id


async def _echo(term: KokoTerminal, word: str) -> None:
    await term.send_input(f"echo {word}-$((6*7))\r".encode())
    await read_until(term, f"{word}-42".encode())


def _key(conn: Connection) -> AccessKey:
    assert conn.access_key is not None
    return conn.access_key


def _ticket(
    info: SandboxInfo, headers: list[tuple[str, str]], body: object, method: str = "POST"
) -> httpx.Response:
    """A (blocking) request to the ticket endpoint; ``body`` None sends no body at all."""
    with httpx.Client(base_url=info.url, verify=info.verify, timeout=10) as client:
        if body is None:
            return client.request(method, TICKETS, headers=headers)
        return client.request(method, TICKETS, json=body, headers=headers)


def _where(info: SandboxInfo) -> tuple[str, int]:
    parts = urlsplit(info.url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


async def _refusal(
    info: SandboxInfo, resource: str, headers: list[tuple[str, str]]
) -> ConnectionRejected:
    """The refused WebSocket upgrade (fails the test if KoKo accepts it)."""
    host, port = _where(info)
    raw = [(k.encode(), v.encode()) for k, v in headers]
    with pytest.raises(ConnectionRejected) as caught:
        async with open_websocket(
            host,
            port,
            resource,
            use_ssl=info.verify,
            subprotocols=["JMS-KOKO"],
            extra_headers=raw,
        ):
            pass
    return caught.value


async def _first_message(info: SandboxInfo, resource: str, headers: list[tuple[str, str]]) -> str:
    """The first text frame of an accepted upgrade (CONNECT, or KoKo's ERROR)."""
    host, port = _where(info)
    raw = [(k.encode(), v.encode()) for k, v in headers]
    async with open_websocket(
        host, port, resource, use_ssl=info.verify, subprotocols=["JMS-KOKO"], extra_headers=raw
    ) as ws:
        with trio.fail_after(WAIT_S):
            while True:
                message = await ws.get_message()
                if isinstance(message, str):
                    return message


async def test_signed_headers_open_a_terminal_without_cookies(v5: SandboxInfo) -> None:
    async with logged_in(v5, "mei", with_key=True) as conn:
        token = await _token(conn)
        assert await probe_header_auth(conn.config, _key(conn)) is KokoHeaderAuth.OFFERED
        credentials = KokoCredentials.access_key(_key(conn), "00000000-0000-0000-0000-000000000002")
        async with open_terminal(conn.config, credentials, token) as term:
            await _echo(term, "signed")


async def test_expired_cookie_falls_through_to_the_headers(v5: SandboxInfo) -> None:
    async with logged_in(v5, "mei", with_key=True) as conn:
        token = await _token(conn)
        stale = "jms_sessionid=0000stale0000; jms_csrftoken=x"
        headers = [("Cookie", stale), *signed_profile_headers(_key(conn), None)]

        class _Both(KokoCredentials):
            def headers(self) -> list[tuple[str, str]]:
                return headers

        async with open_terminal(conn.config, _Both("both"), token) as term:
            await _echo(term, "fallthrough")


async def test_wrong_signatures_are_401_authentication_failed(v5: SandboxInfo) -> None:
    async with logged_in(v5, "mei", with_key=True) as conn:
        token = await _token(conn)
        key = _key(conn)
        date = "Sun, 06 Dec 2026 01:00:00 GMT"
        over_koko_path = signature_header(key, "GET", f"{TERMINAL}?token={token}", date)
        wrong_key = AccessKey(key.id, "not-the-secret")
        wrong_secret = signature_header(wrong_key, "GET", "/api/v1/users/profile/", date)
        for authorization in (over_koko_path, wrong_secret, "Bearer nope"):
            refusal = await _refusal(
                v5, f"{TERMINAL}?token={token}", [("Authorization", authorization), ("Date", date)]
            )
            assert refusal.status_code == 401
            assert refusal.body == b'{"detail":"authentication failed"}'
        # Through our client: a refused key is a login problem, not a crash.
        bad = KokoCredentials.access_key(AccessKey(key.id, "not-the-secret"))
        with pytest.raises(LoginRequired, match="jsctl login"):
            async with open_terminal(conn.config, bad, token):
                pass
        # An org header alone is "headers present": the ticket is not even looked at.
        refusal = await _refusal(
            v5, f"{TERMINAL}?token={token}&ticket={uuid.uuid4()}", [("X-JMS-ORG", "default")]
        )
        assert refusal.status_code == 401 and b"authentication failed" in refusal.body


async def test_no_credentials_is_the_login_redirect(v5: SandboxInfo) -> None:
    refusal = await _refusal(v5, f"{TERMINAL}?token=abc", [])
    assert refusal.status_code == 302
    location = dict((k.decode().lower(), v.decode()) for k, v in refusal.headers)["location"]
    assert location == "/core/auth/login/?next=%2Fkoko%2Fws%2Fterminal%2F%3Ftoken%3Dabc"


async def test_ticket_endpoint_shape_and_errors(v5: SandboxInfo) -> None:
    async with logged_in(v5, "mei", with_key=True) as conn:
        signed = signed_profile_headers(_key(conn), None)
        made = _ticket(v5, signed, {"token_id": " tok ", "org_id": "o1"})
        assert made.status_code == 201
        assert made.headers["content-type"].startswith("application/json")
        body = made.json()
        assert set(body) == {"ticket", "token_id", "org_id", "expires_at", "expires_in"}
        assert body["token_id"] == "tok" and body["org_id"] == "o1"
        assert uuid.UUID(body["ticket"]) and body["expires_at"].endswith("Z")
        assert 1790 <= body["expires_in"] <= 1800
        empty = _ticket(v5, signed, None)
        assert (empty.status_code, empty.json()) == (400, {"detail": "invalid request body: EOF"})
        typed = _ticket(v5, signed, {"token_id": 5})
        assert typed.status_code == 400
        assert typed.json()["detail"] == (
            "invalid request body: json: cannot unmarshal number into Go struct field "
            ".token_id of type string"
        )
        anonymous = _ticket(v5, [], {})
        assert anonymous.status_code == 302
        assert anonymous.headers["location"].startswith("/core/auth/login/?next=")
        forged = _ticket(v5, [("Authorization", "Bearer forged")], {})
        assert (forged.status_code, forged.json()) == (401, {"detail": "authentication failed"})
        got = _ticket(v5, signed, None, "GET")
        assert (got.status_code, got.text) == (404, "404 page not found")


async def test_tickets_bind_to_a_token_and_are_not_one_shot(v5: SandboxInfo) -> None:
    async with logged_in(v5, "mei", with_key=True) as conn:
        signed = signed_profile_headers(_key(conn), None)
        first, second, third = await _token(conn), await _token(conn), await _token(conn)
        bound = _ticket(v5, signed, {"token_id": first}).json()["ticket"]
        refusal = await _refusal(
            v5, f"{TERMINAL}?token={second}", [("X-Koko-Connect-Ticket", bound)]
        )
        assert refusal.status_code == 401
        assert refusal.body == b'{"detail":"connect ticket token mismatch"}'
        ticket_header = [("X-Koko-Connect-Ticket", bound)]
        opened = await _first_message(v5, f"{TERMINAL}?token={first}", ticket_header)
        assert '"type":"CONNECT"' in opened.replace(" ", "")
        # Reusing the bound ticket passes KoKo's auth; the consumed token is what refuses.
        reused = await _first_message(v5, f"{TERMINAL}?token={first}", ticket_header)
        assert '"type":"ERROR"' in reused.replace(" ", "") and "xpired" in reused
        # An unbound ticket works for several connections (KoKo does not consume tickets).
        free = _ticket(v5, signed, {}).json()["ticket"]
        again = await _first_message(
            v5, f"{TERMINAL}?token={second}", [("X-Koko-Connect-Ticket", free)]
        )
        assert '"type":"CONNECT"' in again.replace(" ", "")
        in_query = await _first_message(v5, f"{TERMINAL}?token={third}&ticket={free}", [])
        assert '"type":"CONNECT"' in in_query.replace(" ", "")


async def test_unknown_and_stale_tickets(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--server-version", "5.0") as sb:
        async with logged_in(sb, "mei", with_key=True) as conn:
            signed = signed_profile_headers(_key(conn), None)
            ticket = _ticket(sb, signed, {}).json()["ticket"]
            for given in (str(uuid.uuid4()), "garbage"):
                refusal = await _refusal(sb, f"{TERMINAL}?token=t&ticket={given}", [])
                assert refusal.status_code == 401
                assert refusal.body == b'{"detail":"connect ticket invalid or expired"}'
            sb.control().advance_clock(30 * 60 + 5)
            token = await _token(conn)
            refusal = await _refusal(
                sb, f"{TERMINAL}?token={token}", [("X-Koko-Connect-Ticket", ticket)]
            )
            assert refusal.status_code == 401
            assert refusal.body == b'{"detail":"connect ticket invalid or expired"}'


async def test_v4_koko_takes_only_the_cookie(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "mei", with_key=True) as conn:
        signed = signed_profile_headers(_key(conn), None)
        absent = _ticket(sandbox, signed, {})
        assert (absent.status_code, absent.text) == (404, "404 page not found")
        assert await probe_header_auth(conn.config, _key(conn)) is KokoHeaderAuth.ABSENT
        token = await _token(conn)
        refusal = await _refusal(sandbox, f"{TERMINAL}?token={token}", signed)
        assert refusal.status_code == 302
        with pytest.raises(LoginRequired):
            async with open_terminal(conn.config, KokoCredentials.access_key(_key(conn)), token):
                pass


async def test_probe_sees_a_revoked_key(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--server-version", "5.0") as sb:
        async with logged_in(sb, "mei", with_key=True) as conn:
            key = _key(conn)
            sb.control().clear_access_keys("mei")
            assert await probe_header_auth(conn.config, key) is KokoHeaderAuth.KEY_REFUSED
            conn.access_key = None  # already gone: nothing to revoke at exit
