"""REST requests on lanes: each a one-connection pool, reused, never stuck after a cancel.

A real HTTP/1.1 server here counts the connections it accepts; the sandbox answers the rest.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import time
from collections.abc import Iterator

import pytest
import trio
from jsctl_testing import local_http_server

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import MAX_IN_FLIGHT, Connection
from jsctl_daemon.jumpserver.errors import Unreachable
from jsctl_sandbox.testing import SandboxInfo

from .conftest import logged_in, server_config


@contextlib.contextmanager
def counting_server() -> Iterator[tuple[str, list[int]]]:
    """Keep-alive HTTP/1.1; /slow/ answers after 2 s. Yields (url, [connections accepted])."""
    accepted = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            accepted[0] += 1
            super().setup()

        def do_GET(self) -> None:
            if self.path.startswith("/slow/"):
                time.sleep(2)
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with local_http_server(Handler) as url:
        yield url, accepted


async def test_lanes_reuse_their_connections() -> None:
    with counting_server() as (url, accepted):
        async with Connection(ServerConfig(url)) as conn:
            for n in range(20):
                assert await conn.get_json(f"/one/{n}/") == {"path": f"/one/{n}/"}
            assert accepted[0] == 1  # one after another: one lane, one connection
            async with trio.open_nursery() as nursery:
                for n in range(60):
                    nursery.start_soon(conn.get_json, f"/many/{n}/")
            assert accepted[0] <= MAX_IN_FLIGHT  # a connection per lane at most
            before = accepted[0]
            async with trio.open_nursery() as nursery:
                for n in range(60):
                    nursery.start_soon(conn.get_json, f"/again/{n}/")
            assert accepted[0] == before  # the lanes kept theirs


async def test_a_cancelled_request_leaves_every_lane_usable() -> None:
    with counting_server() as (url, _):
        async with Connection(ServerConfig(url)) as conn:
            async with trio.open_nursery() as nursery:
                for _ in range(MAX_IN_FLIGHT):  # every lane busy, then cancelled mid-answer
                    nursery.start_soon(conn.get_json, "/slow/")
                await trio.sleep(0.5)
                nursery.cancel_scope.cancel()
            with trio.fail_after(10):
                async with trio.open_nursery() as nursery:
                    for n in range(3 * MAX_IN_FLIGHT):
                        nursery.start_soon(conn.get_json, f"/after/{n}/")


async def test_a_closed_port_is_unreachable() -> None:
    with counting_server() as (url, _):
        pass  # shut down: nothing listens there now
    async with Connection(ServerConfig(url, timeout=5)) as conn:
        with pytest.raises(Unreachable):
            await conn.get_json("/gone/")


async def test_through_the_client_when_the_environment_names_a_proxy(
    sandbox: SandboxInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The proxy is never reached (NO_PROXY covers the sandbox): the request goes through the
    # httpx client, which honours the environment, and is signed by its auth hook.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    async with logged_in(sandbox, "mei", with_key=True) as conn:
        assert conn._lanes is None
        cookieless = Connection(server_config(sandbox), access_key=conn.access_key)
        async with cookieless:
            profile = await cookieless.get_json("/api/v1/users/profile/")
    assert profile["username"] == "mei"
