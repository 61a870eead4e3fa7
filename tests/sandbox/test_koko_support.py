"""Helpers for the KoKo terminal tests (no tests here).

``KokoClient`` speaks the KoKo terminal protocol over a plain trio-websocket connection.
A ``KokoTarget`` is a running terminal endpoint: ``SandboxTarget`` is the real sandbox
over WSS (web-form login, REST connection tokens, control API for knobs and faults);
``InProcessTarget`` runs the endpoint in a tiny Starlette app on hypercorn (loopback
HTTP) with ``InMemoryKokoBackend``, so it tests this module independently of the core.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.routing import WebSocketRoute
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from jsctl_koko import ENVELOPE_KEYS
from jsctl_sandbox._koko_io import login_redirect
from jsctl_sandbox.koko_contract import (
    KokoGrant,
    KokoSettings,
    KokoTokenError,
    KokoTokenUserMismatch,
    KokoUser,
)
from jsctl_sandbox.koko_terminal import terminal_endpoint
from jsctl_sandbox.testing import SandboxInfo, csrf_headers, web_login

# Bounds a hang; never an assertion about speed.
WAIT_S = 20.0

ALICE = KokoUser(id=str(uuid.uuid4()), name="Alice", username="alice", email="a@example.com")
BOB = KokoUser(id=str(uuid.uuid4()), name="Bob", username="bob", email="b@example.com")


@dataclass
class InMemoryKokoBackend:
    """A KokoBackend with one cookie per user and single-use tokens."""

    workdir: Path
    settings: KokoSettings = field(default_factory=KokoSettings)
    cookies: dict[str, KokoUser] = field(default_factory=dict)
    tokens: dict[str, KokoUser] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    needs_password: bool = False  # tokens carry no secret: KoKo prompts for one

    def count(self, event: str) -> None:
        self.counters[event] += 1

    def now(self) -> float:
        return time.time() + self.clock_offset

    clock_offset: float = 0.0

    def login(self, user: KokoUser) -> str:
        cookie = uuid.uuid4().hex
        self.cookies[cookie] = user
        return cookie

    def issue_token(self, user: KokoUser) -> str:
        token = str(uuid.uuid4())
        self.tokens[token] = user
        return token

    def authenticate(self, connection: HTTPConnection) -> KokoUser | Response:
        user = self.cookies.get(connection.cookies.get("jms_sessionid", ""))
        return user if user is not None else login_redirect(connection)

    def consume_token(self, token_id: str, user: KokoUser) -> KokoGrant:
        owner = self.tokens.get(token_id)
        if owner is None:
            raise KokoTokenError("Token invalid")
        if token_id in self.consumed:
            raise KokoTokenError("Connection token expired at: 2026/01/01 10:00:00 +0000")
        if owner != user:
            raise KokoTokenUserMismatch(token_id)
        self.consumed.add(token_id)
        return KokoGrant(
            token_id=token_id,
            user=user,
            asset_id=str(uuid.uuid4()),
            asset_name="web-01",
            asset_address="10.0.0.11",
            org_id="00000000-0000-0000-0000-000000000002",
            org_name="Default",
            platform={"id": 1, "name": "Linux", "type": {"value": "linux", "label": "Linux"}},
            account_alias="@INPUT",
            account_name="root",
            account_username="root",
            protocol="ssh",
            connect_method="web_cli",
            actions=["connect", "upload", "download", "copy", "paste"],
            remote_addr="127.0.0.1",
            hostname="web-01",
            workdir=self.workdir,
            file_root=self.workdir,
            needs_password=self.needs_password,
        )

    def record_session(self, grant: KokoGrant, session: dict[str, Any]) -> None:
        self.recorded.append(session)


@asynccontextmanager
async def serve_koko(backend: InMemoryKokoBackend) -> AsyncIterator[str]:
    """The terminal endpoint on 127.0.0.1; yields its ``ws://host:port`` base URL."""
    app = Starlette(routes=[WebSocketRoute("/koko/ws/terminal/", terminal_endpoint)])
    app.state.koko_backend = backend
    asgi_app: Any = app  # hypercorn's Framework type does not name Starlette
    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(partial(serve, asgi_app, config, shutdown_trigger=stop.wait))
        yield binds[0].replace("http://", "ws://")
        stop.set()
        nursery.cancel_scope.cancel()


class KokoClient:
    """A test-side KoKo terminal client: typed messages in, screen bytes accumulated."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.screen = b""
        self.binary_frames: list[bytes] = []
        self.messages: list[dict[str, Any]] = []
        self.connect_id = ""
        self.envelope_keys = set(ENVELOPE_KEYS)  # every key each server frame must carry

    async def next_frame(self) -> dict[str, Any] | bytes:
        """The next frame: a parsed envelope (checked for every v4 key) or binary bytes."""
        frame = await self.ws.get_message()
        if isinstance(frame, bytes):
            self.binary_frames.append(frame)
            self.screen += frame
            return frame
        message: dict[str, Any] = json.loads(frame)
        assert set(message) == self.envelope_keys, message
        assert isinstance(message["data"], str), message
        self.messages.append(message)
        return message

    async def expect(self, type: str) -> dict[str, Any]:
        """Read until a message of ``type`` arrives (binary output is accumulated)."""
        with trio.fail_after(WAIT_S):
            while True:
                frame = await self.next_frame()
                if isinstance(frame, dict) and frame["type"] == type:
                    return frame

    async def expect_output(self, needle: bytes) -> bytes:
        """Read until ``needle`` is on screen; consume the screen up to it and return that."""
        with trio.fail_after(WAIT_S):
            while needle not in self.screen:
                await self.next_frame()
        end = self.screen.index(needle) + len(needle)
        seen, self.screen = self.screen[:end], self.screen[end:]
        return seen

    async def expect_dropped(self) -> None:
        """Read until the server drops the connection without a close frame (code 1006)."""
        with pytest.raises(ConnectionClosed) as closed, trio.fail_after(WAIT_S):
            while True:
                await self.next_frame()
        assert closed.value.reason is not None and closed.value.reason.code == 1006

    async def send(self, type: str, data: Any = "", id: str = "", **extra: Any) -> None:
        await self.ws.send_message(json.dumps({"id": id, "type": type, "data": data, **extra}))

    async def start(self, cols: int = 80, rows: int = 24) -> dict[str, Any]:
        """CONNECT then TERMINAL_INIT; returns the CONNECT message."""
        connect = await self.expect("CONNECT")
        self.connect_id = connect["id"]
        size = json.dumps({"cols": cols, "rows": rows, "code": ""})
        await self.send("TERMINAL_INIT", size, id=self.connect_id)
        return connect

    async def type(self, text: str) -> None:
        await self.send("TERMINAL_DATA", text)

    async def assert_silent(self, seconds: float = 0.5) -> None:
        """No frame arrives for a while (a negative check; it cannot prove forever)."""
        with trio.move_on_after(seconds):
            frame = await self.ws.get_message()
            raise AssertionError(f"expected silence, got {frame!r}")

    async def assert_silent_of(self, type: str, seconds: float) -> None:
        """No message of ``type`` for a while (other frames are taken in)."""
        with trio.move_on_after(seconds):
            while True:
                frame = await self.next_frame()
                assert not (isinstance(frame, dict) and frame["type"] == type), frame


class KokoTarget(Protocol):
    """A running terminal endpoint with a primary and another user."""

    @property
    def ws_base(self) -> str:
        """``ws://`` or ``wss://`` origin of the endpoint."""
        ...

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """Trust for a wss:// endpoint."""
        ...

    @property
    def workdir(self) -> Path:
        """Home directory of the asset tokens are issued for."""
        ...

    async def cookie(self, user: str) -> str:
        """A Cookie header of a fresh web session of ``user`` ("primary" or "other")."""
        ...

    async def logout(self, user: str) -> None:
        """End ``user``'s web session (a cookie taken before stays expired)."""
        ...

    async def issue_token(self, user: str) -> str:
        """A new connection token of ``user`` for the target's asset."""
        ...

    async def configure(self, **settings: Any) -> None:
        """Change KokoSettings fields (reset after the test)."""
        ...

    async def recorded_sessions(self) -> list[dict[str, Any]]:
        """Sessions the backend was told about via record_session."""
        ...


@dataclass
class InProcessTarget:
    """The endpoint in this process with an in-memory backend (users ALICE and BOB)."""

    backend: InMemoryKokoBackend
    ws_base: str
    ssl_context: ssl.SSLContext | None = None

    @property
    def workdir(self) -> Path:
        return self.backend.workdir

    @staticmethod
    def _user(user: str) -> KokoUser:
        return ALICE if user == "primary" else BOB

    async def cookie(self, user: str) -> str:
        return f"jms_sessionid={self.backend.login(self._user(user))}"

    async def logout(self, user: str) -> None:
        for cookie, owner in list(self.backend.cookies.items()):
            if owner == self._user(user):
                del self.backend.cookies[cookie]

    async def issue_token(self, user: str) -> str:
        return self.backend.issue_token(self._user(user))

    async def configure(self, **settings: Any) -> None:
        for name, value in settings.items():
            setattr(self.backend.settings, name, value)

    async def recorded_sessions(self) -> list[dict[str, Any]]:
        return self.backend.recorded


ASSET = "web-01"
_USERNAMES = {"primary": "mei", "other": "admin"}
_ASSETS_API = "/api/v1/perms/users/self/assets/"
_TOKENS_API = "/api/v1/authentication/connection-token/"


class SandboxTarget:
    """The real sandbox (subprocess, HTTPS/WSS); users mei (primary) and admin (other)."""

    def __init__(self, info: SandboxInfo) -> None:
        self.info = info
        self.ws_base = info.ws_url
        self.ssl_context = ssl.create_default_context(cafile=info.ca_file) if info.ca_file else None
        self.workdir = info.data_dir / "assets" / ASSET / "home"
        self._clients: dict[str, httpx.Client] = {}

    def _client(self, user: str) -> httpx.Client:
        if user not in self._clients:
            self._clients[user] = web_login(self.info, _USERNAMES[user])
        return self._clients[user]

    async def cookie(self, user: str) -> str:
        client = await trio.to_thread.run_sync(self._client, user)
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())

    async def logout(self, user: str) -> None:
        client = self._clients.pop(user)
        await trio.to_thread.run_sync(client.get, "/core/auth/logout/")
        client.close()

    def _issue_token(self, user: str) -> str:
        client = self._client(user)
        found = client.get(_ASSETS_API, params={"search": ASSET}).json()
        asset = client.get(f"{_ASSETS_API}{found[0]['id']}/").json()
        alias = next(a["alias"] for a in asset["permed_accounts"] if a["alias"][0] != "@")
        body = {
            "asset": asset["id"],
            "account": alias,
            "protocol": "ssh",
            "connect_method": "web_cli",
        }
        response = client.post(_TOKENS_API, json=body, headers=csrf_headers(self.info, client))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def issue_token(self, user: str) -> str:
        return await trio.to_thread.run_sync(self._issue_token, user)

    async def configure(self, **settings: Any) -> None:
        await trio.to_thread.run_sync(partial(self.info.control().koko, **settings))

    async def recorded_sessions(self) -> list[dict[str, Any]]:
        info = await trio.to_thread.run_sync(self.info.control().info)
        sessions: list[dict[str, Any]] = info["terminal_sessions"]
        return sessions

    def reset(self) -> None:
        """Undo this test's KoKo settings and faults."""
        self.info.control().reset()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


@asynccontextmanager
async def open_terminal(
    target: KokoTarget,
    *,
    user: str = "primary",
    token: str | None = None,
    query: str | None = None,
    cookie: str | None = None,
) -> AsyncIterator[KokoClient]:
    """A terminal socket; by default logged in as ``user`` with a fresh token of theirs."""
    if cookie is None:
        cookie = await target.cookie(user)
    if query is None:
        query = f"token={token or await target.issue_token(user)}"
    async with open_websocket_url(
        f"{target.ws_base}/koko/ws/terminal/?{query}",
        ssl_context=target.ssl_context,
        subprotocols=["JMS-KOKO"],
        extra_headers=[(b"cookie", cookie.encode())],
        disconnect_timeout=WAIT_S,
    ) as ws:
        yield KokoClient(ws)
