"""Helpers for the KoKo file endpoint tests (no tests here).

``FileUser`` is a web-logged-in sandbox user that creates ``sftp``/``web_sftp`` tokens;
``SftpClient`` speaks ``/koko/ws/sftp/`` and ``ElfinderClient`` the elFinder socket plus
its HTTP connector, all over the real sandbox's HTTPS/WSS with plain httpx and
trio-websocket.
"""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from jsctl_koko import ENVELOPE_KEYS
from jsctl_sandbox.testing import SandboxInfo, csrf_headers, web_login

WAIT_S = 20.0  # bounds a hang; never an assertion about speed
ASSETS_API = "/api/v1/perms/users/self/assets/"
TOKENS_API = "/api/v1/authentication/connection-token/"
# A 2 MiB download chunk is ~2.8 MB of base64; trio-websocket's default cap is 1 MiB.
MAX_MESSAGE = 32 * 1024 * 1024


def file_root(info: SandboxInfo, asset: str = "web-01") -> Path:
    """The asset's SFTP root directory on this machine (created on first token use)."""
    root = info.data_dir / "assets" / asset / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


@dataclass
class FileUser:
    """A logged-in sandbox user (sync httpx client) that issues file tokens."""

    info: SandboxInfo
    username: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = web_login(self.info, self.username)

    @property
    def cookie(self) -> str:
        """A Cookie header with the whole jar."""
        return "; ".join(f"{name}={value}" for name, value in self.client.cookies.items())

    def asset_id(self, asset: str) -> str:
        found = self.client.get(ASSETS_API, params={"search": asset}).json()
        return str(next(a["id"] for a in found if a["name"] == asset))

    def token(self, asset: str = "web-01", protocol: str = "sftp", method: str = "web_sftp") -> str:
        """A fresh connection token for the asset's first real account."""
        asset_id = self.asset_id(asset)
        detail = self.client.get(f"{ASSETS_API}{asset_id}/").json()
        alias = next(a["alias"] for a in detail["permed_accounts"] if a["alias"][0] != "@")
        body = {"asset": asset_id, "account": alias, "protocol": protocol, "connect_method": method}
        response = self.client.post(
            TOKENS_API, json=body, headers=csrf_headers(self.info, self.client)
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def close(self) -> None:
        self.client.close()


def ssl_context(info: SandboxInfo) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=info.ca_file) if info.ca_file else None


def check_envelope(frame: str | bytes) -> dict[str, Any]:
    """A server text frame parsed and checked to carry every v4 key with a string ``data``."""
    assert isinstance(frame, str), frame
    message: dict[str, Any] = json.loads(frame)
    assert set(message) == set(ENVELOPE_KEYS), message
    assert isinstance(message["data"], str), message
    return message


class KokoSocket:
    """A KoKo socket that waits for CONNECT and skips server PINGs."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.connect_id = ""

    async def receive(self) -> dict[str, Any]:
        """The next non-PING envelope."""
        with trio.fail_after(WAIT_S):
            while True:
                message = check_envelope(await self.ws.get_message())
                if message["type"] != "PING":
                    return message

    async def connected(self) -> dict[str, Any]:
        """The CONNECT message (asserted), remembering its id."""
        message = await self.receive()
        assert message["type"] == "CONNECT", message
        self.connect_id = message["id"]
        return message

    async def assert_silent(self, seconds: float = 0.5) -> None:
        """No frame arrives for a while (a negative check; it cannot prove forever)."""
        with trio.move_on_after(seconds):
            frame = await self.ws.get_message()
            raise AssertionError(f"expected silence, got {frame!r}")


class SftpClient(KokoSocket):
    """Requests and replies on ``/koko/ws/sftp/``."""

    async def send(self, cmd: str, data: Any, *, id: str = "", raw: bytes | None = None) -> str:
        """Send one request; returns the envelope id used (a random integer string by default)."""
        id = id or str(uuid.uuid4().int % 10**9)
        frame: dict[str, Any] = {
            "id": id,
            "type": "SFTP_DATA",
            "cmd": cmd,
            "data": data if isinstance(data, str) else json.dumps(data),
        }
        if raw is not None:
            frame["raw"] = base64.b64encode(raw).decode()
        await self.ws.send_message(json.dumps(frame))
        return id

    async def request(
        self, cmd: str, data: Any, *, id: str = "", raw: bytes | None = None
    ) -> dict[str, Any]:
        """One request and its reply (checked to echo id and cmd)."""
        sent = await self.send(cmd, data, id=id, raw=raw)
        reply = await self.receive()
        assert reply["id"] == sent and reply["cmd"] == cmd, reply
        return reply

    async def ok(self, cmd: str, data: Any, **kw: Any) -> dict[str, Any]:
        """A request that must succeed."""
        reply = await self.request(cmd, data, **kw)
        assert reply["type"] == "SFTP_DATA" and reply["err"] == "", reply
        return reply

    async def listing(self, path: str) -> dict[str, dict[str, Any]]:
        """``list`` as {name: entry}."""
        reply = await self.ok("list", {"path": path})
        return {entry["name"]: entry for entry in json.loads(reply["data"])}

    async def download(
        self, path: str, *, is_dir: bool = False
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(SFTP_BINARY frames, final reply) of one download."""
        sent = await self.send("download", {"path": path, "is_dir": is_dir})
        chunks: list[dict[str, Any]] = []
        while True:
            message = await self.receive()
            assert message["id"] == sent and message["cmd"] == "download", message
            if message["type"] != "SFTP_BINARY":
                return chunks, message
            chunks.append(message)


@asynccontextmanager
async def open_koko(
    info: SandboxInfo, path: str, *, cookie: str, query: str
) -> AsyncIterator[WebSocketConnection]:
    """A raw KoKo WebSocket at ``path`` with the given cookie and query."""
    async with open_websocket_url(
        f"{info.ws_url}{path}?{query}",
        ssl_context=ssl_context(info),
        subprotocols=["JMS-KOKO"],
        extra_headers=[(b"cookie", cookie.encode())],
        disconnect_timeout=WAIT_S,
        max_message_size=MAX_MESSAGE,
    ) as ws:
        yield ws


@asynccontextmanager
async def open_sftp(
    info: SandboxInfo, user: FileUser, token: str | None = None
) -> AsyncIterator[SftpClient]:
    """A connected ``/koko/ws/sftp/`` client (CONNECT already received)."""
    token = token or await trio.to_thread.run_sync(user.token)
    async with open_koko(info, "/koko/ws/sftp/", cookie=user.cookie, query=f"token={token}") as ws:
        client = SftpClient(ws)
        await client.connected()
        yield client


def vhash(vid: str, path: str) -> str:
    """An elFinder hash (tests build them to check the server's, and to probe paths)."""
    return f"{vid}_{base64.urlsafe_b64encode(path.encode()).decode().rstrip('=')}"


class ElfinderClient(KokoSocket):
    """The elFinder socket (its CONNECT id is the sid) plus connector calls over httpx."""

    def __init__(self, ws: WebSocketConnection, user: FileUser) -> None:
        super().__init__(ws)
        self.user = user
        self.connector = "/koko/elfinder/connector/x/"

    async def call(self, cmd: str, **params: Any) -> httpx.Response:
        """GET the connector (list values become repeated keys)."""
        query = {"sid": self.connect_id, "cmd": cmd, **params}
        return await trio.to_thread.run_sync(
            lambda: self.user.client.get(self.connector, params=query)
        )

    async def json(self, cmd: str, **params: Any) -> dict[str, Any]:
        """A connector call answered with JSON."""
        response = await self.call(cmd, **params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body: dict[str, Any] = response.json()
        return body

    async def post(
        self, data: dict[str, Any], files: list[tuple[str, tuple[str, bytes]]] | None = None
    ) -> dict[str, Any]:
        """A multipart POST to the connector (sid added)."""
        response = await trio.to_thread.run_sync(
            lambda: self.user.client.post(
                self.connector, data={"sid": self.connect_id, **data}, files=files or []
            )
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def open_elfinder(
    info: SandboxInfo, user: FileUser, token: str | None = None, asset: str = "web-01"
) -> AsyncIterator[ElfinderClient]:
    """A connected elFinder socket (CONNECT received, so ``connect_id`` is the sid)."""
    token = token or await trio.to_thread.run_sync(user.token)
    asset_id = await trio.to_thread.run_sync(user.asset_id, asset)
    query = f"type=elfinder&target_id={asset_id}&token={token}"
    async with open_koko(info, "/koko/ws/elfinder/", cookie=user.cookie, query=query) as ws:
        client = ElfinderClient(ws, user)
        await client.connected()
        yield client
