"""A minimal direct KoKo terminal client: the baseline the sessions bench compares jsctl to.

Our JumpServer client logs in and makes ``web_cli`` connection tokens; the terminal itself is
plain trio-websocket (CONNECT, TERMINAL_INIT, then binary output frames), with none of the
daemon's ring buffer, marker scanning or RPC in between.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jumpserver.conftest import logged_in
from trio_websocket import WebSocketConnection, open_websocket_url

from jsctl_daemon.jumpserver import JumpServerAPI
from jsctl_daemon.sessions._lines import exec_line
from jsctl_daemon.sessions._markers import new_token
from jsctl_sandbox.testing import SandboxInfo

TERMINAL_PATH = "/koko/ws/terminal/"
SUBPROTOCOL = "JMS-KOKO"


def end_marker(token: str) -> bytes:
    """The start of the END marker the shell prints after a command wrapped with ``token``."""
    return b"\x1b]7391;E" + token.encode()


class TokenSource:
    """Makes one-time ``web_cli`` connection tokens for one asset on a logged-in web session."""

    def __init__(self, api: JumpServerAPI, asset_id: str, alias: str, cookie: str) -> None:
        self._api = api
        self._asset_id = asset_id
        self._alias = alias
        self.cookie = cookie

    async def new(self) -> str:
        """A fresh token id."""
        return (await self._api.create_connection_token(self._asset_id, self._alias)).id


@asynccontextmanager
async def token_source(info: SandboxInfo, username: str, asset: str) -> AsyncIterator[TokenSource]:
    """Web-log ``username`` in and resolve ``asset`` and its first real account."""
    async with logged_in(info, username) as conn:
        api = JumpServerAPI(conn)
        found = next(a for a in await api.assets(search=asset) if a.name == asset)
        detail = await api.asset(found.id)
        alias = next(a.alias for a in detail.accounts if not a.is_virtual)
        yield TokenSource(api, found.id, alias, conn.cookie_header())


class DirectTerminal:
    """One KoKo terminal read and written directly."""

    def __init__(self, ws: WebSocketConnection, connect_id: str) -> None:
        self._ws = ws
        self._id = connect_id

    async def send_text(self, text: str) -> None:
        """Keystrokes as one TERMINAL_DATA frame."""
        message = {"id": self._id, "type": "TERMINAL_DATA", "data": text}
        await self._ws.send_message(json.dumps(message))

    async def read_until(self, needle: bytes) -> int:
        """Read output frames until ``needle`` has arrived; returns the output bytes read."""
        keep = len(needle) - 1
        tail, total = b"", 0
        while True:
            message = await self._ws.get_message()
            if not isinstance(message, bytes):
                continue  # TERMINAL_SESSION, PING, ...
            total += len(message)
            window = tail + message
            if needle in window:
                return total
            tail = window[-keep:] if keep else b""

    async def run(self, command: str) -> int:
        """Type ``command`` wrapped in markers as jsctl does; read until its END marker."""
        token = new_token()
        await self.send_text(exec_line(command, token, stdin_from_terminal=False).decode())
        return await self.read_until(end_marker(token))


@asynccontextmanager
async def open_direct(
    info: SandboxInfo, tokens: TokenSource, cols: int = 120, rows: int = 40
) -> AsyncIterator[DirectTerminal]:
    """A new terminal: token, WSS handshake, CONNECT, TERMINAL_INIT."""
    token = await tokens.new()
    context = ssl.create_default_context(cafile=info.ca_file) if info.ca_file else None
    async with open_websocket_url(
        f"{info.ws_url}{TERMINAL_PATH}?token={token}",
        ssl_context=context,
        subprotocols=[SUBPROTOCOL],
        extra_headers=[(b"Cookie", tokens.cookie.encode())],
    ) as ws:
        connect_id = ""
        while not connect_id:
            message = await ws.get_message()
            if (
                isinstance(message, str)
                and (parsed := json.loads(message)).get("type") == "CONNECT"
            ):
                connect_id = str(parsed["id"])
        init = json.dumps({"cols": cols, "rows": rows, "code": ""})
        await ws.send_message(json.dumps({"id": connect_id, "type": "TERMINAL_INIT", "data": init}))
        yield DirectTerminal(ws, connect_id)
