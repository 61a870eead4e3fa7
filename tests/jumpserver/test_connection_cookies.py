"""The Cookie header our requests carry is the one the cookie jar itself would send.

The connection works the header out from the jar per request instead of letting httpx copy
the whole jar into a new one; a real HTTP server here records what each request carried.
"""

from __future__ import annotations

import contextlib
import http.server
import json
from collections.abc import Iterator
from typing import Any

import httpx
import trio
from jsctl_testing import local_http_server

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection

SET_COOKIES = (
    "SESSION_COOKIE_NAME_PREFIX=jms_; Path=/",
    "jms_csrftoken=csrf1; Path=/",
    "scoped=s1; Path=/api/v1/perms",
    "brief=b1; Path=/; Max-Age=1",
    "secure_only=x1; Path=/; Secure",
    "django_language=de; Path=/",
)
PATHS = (
    "/api/v1/perms/users/self/assets/",
    "/api/v1/perms/",
    "/api/v1/permsx/",
    "/api/v1/users/profile/",
    "/core/auth/login/",
)


@contextlib.contextmanager
def recording_server() -> Iterator[str]:
    """Plain HTTP: /set/ sets SET_COOKIES; any other path answers the Cookie header it got."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"cookie": self.headers.get("Cookie")}).encode()
            self.send_response(200)
            if self.path.startswith("/set/"):
                for value in SET_COOKIES:
                    self.send_header("Set-Cookie", value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with local_http_server(Handler) as url:
        yield url


def _sent(answer: Any) -> set[str]:
    return set((answer["cookie"] or "").split("; ")) - {""}


def _jar_would_send(conn: Connection, url: str) -> set[str]:
    """What httpx's jar picks for ``url`` (its own policy: path, expiry, Secure)."""
    request = httpx.Request("GET", url)
    httpx.Cookies(conn.cookies).set_cookie_header(request)
    pairs = set(request.headers.get("Cookie", "").split("; ")) - {""}
    return {p for p in pairs if not p.startswith("django_language=")}


async def test_requests_carry_what_the_jar_would_send() -> None:
    with recording_server() as url:
        async with Connection(ServerConfig(url)) as conn:
            await conn.get_json("/set/")
            assert conn.cookie("scoped") == "s1"  # the jar kept what the server set
            for path in PATHS:
                sent = _sent(await conn.get_json(path))
                assert sent == _jar_would_send(conn, url + path), path
                assert "django_language=de" not in sent  # Accept-Language: en is ours
                assert "secure_only=x1" not in sent  # a Secure cookie never goes over http
            first = _sent(await conn.get_json("/api/v1/perms/users/self/assets/"))
            assert {"scoped=s1", "brief=b1", "jms_csrftoken=csrf1"} <= first
            assert "scoped=s1" not in _sent(await conn.get_json("/api/v1/permsx/"))
            await trio.sleep(1.2)  # brief's Max-Age passes
            later = _sent(await conn.get_json("/api/v1/perms/users/self/assets/"))
            assert "brief=b1" not in later and "scoped=s1" in later
            assert later == _jar_would_send(conn, url + "/api/v1/perms/users/self/assets/")


async def test_a_query_and_params_do_not_change_the_cookie_path() -> None:
    with recording_server() as url:
        async with Connection(ServerConfig(url)) as conn:
            await conn.get_json("/set/")
            answer = await conn.get_json("/api/v1/perms/?x=1", params={"limit": 5})
            assert "scoped=s1" in _sent(answer)
            conn.reset_cookies()
            assert _sent(await conn.get_json("/api/v1/perms/")) == set()
