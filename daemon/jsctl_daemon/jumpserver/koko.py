"""A KoKo web-terminal client (sheet 7) satisfying :class:`jsctl_daemon.terminal.TerminalTransport`.

``open_terminal(...)`` connects ``wss://<host>/koko/ws/terminal/?token=<id>`` with the web
session cookie, waits for CONNECT, sends TERMINAL_INIT, then yields a :class:`KokoTerminal`.
A heartbeat task (PING every ``ping_interval``) lives in a nursery the context manager owns.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jsctl_daemon.jumpserver._koko_socket import (
    await_connect,
    connect_socket,
    envelope,
    koko_failures,
    nested,
    parse_message,
)
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import (
    TerminalClosed,
    TerminalEnded,
    TerminalLost,
)

__all__ = ["KokoSettings", "KokoTerminal", "open_terminal"]

TERMINAL_PATH = "/koko/ws/terminal/"


@dataclass(frozen=True)
class KokoSettings:
    """Timing knobs (seconds)."""

    connect_timeout: float = 20.0  # TCP+TLS+upgrade, and again for CONNECT
    ping_interval: float = 25.0  # KoKo drops a reader that is silent for 5 minutes
    liveness: float = 100.0  # KoKo PINGs after 30 s of write silence on a 1-minute ticker
    close_timeout: float = 3.0


class KokoTerminal:
    """One live KoKo terminal: output via ``receive()``, input, resize, session ``info``."""

    def __init__(self, ws: WebSocketConnection, connect_id: str, settings: KokoSettings) -> None:
        self._ws = ws
        self._id = connect_id
        self._settings = settings
        self._info: dict[str, Any] = {"connect_id": connect_id}
        self._ended: TerminalEnded | None = None
        self._send_lock = trio.Lock()

    @property
    def info(self) -> dict[str, Any]:
        """KoKo's TERMINAL_SESSION data (``session``, ``permission``, …) plus ``connect_id``."""
        return self._info

    @property
    def ended(self) -> TerminalEnded | None:
        """Why the terminal ended, once it has."""
        return self._ended

    def _end(self, error: TerminalEnded) -> NoReturn:
        if self._ended is None:
            self._ended = error
        raise self._ended

    async def receive(self) -> bytes:
        """The next output bytes; raises TerminalClosed / TerminalLost when the terminal ends."""
        while True:
            if self._ended is not None:
                raise self._ended
            with trio.move_on_after(self._settings.liveness) as silence:
                try:
                    message = await self._ws.get_message()
                except ConnectionClosed as exc:
                    code = exc.reason.code if exc.reason else 1006
                    self._end(TerminalLost(f"the connection to KoKo dropped (code {code})"))
            if silence.cancelled_caught:
                self._end(
                    TerminalLost(
                        f"KoKo sent nothing for {self._settings.liveness:g} s "
                        "(the connection is probably dead)"
                    )
                )
            if isinstance(message, bytes):
                if message:
                    return message
                continue
            self._handle_text(message)

    def _handle_text(self, text: str) -> None:
        message = parse_message(text)
        if message is None:
            return
        kind = message.get("type")
        if kind == "CLOSE":
            self._end(TerminalClosed("the remote session ended"))
        if kind == "ERROR":
            self._end(TerminalClosed(f"KoKo ended the terminal: {message.get('err') or 'error'}"))
        if kind == "TERMINAL_SESSION":
            data = nested(message.get("data"))
            if isinstance(data, dict):
                self._info.update(data)
        elif kind in ("TERMINAL_PERM_EXPIRED", "TERMINAL_PERM_VALID"):
            self._info["permission_state"] = kind
        elif kind in ("TERMINAL_SESSION_PAUSE", "TERMINAL_SESSION_RESUME"):
            self._info["paused"] = kind == "TERMINAL_SESSION_PAUSE"

    async def _send(self, message: str | bytes) -> None:
        if self._ended is not None:
            raise self._ended
        try:
            async with self._send_lock:
                await self._ws.send_message(message)
        except ConnectionClosed as exc:
            code = exc.reason.code if exc.reason else 1006
            self._end(TerminalLost(f"the connection to KoKo dropped (code {code})"))

    async def send_input(self, data: bytes) -> None:
        """Keystrokes: TERMINAL_DATA when the bytes are UTF-8 text, a binary frame otherwise."""
        if not data:
            return
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await self._send(data)
            return
        await self._send(envelope(self._id, "TERMINAL_DATA", text))

    async def resize(self, cols: int, rows: int) -> None:
        """Tell KoKo the new window size."""
        size = json.dumps({"cols": int(cols), "rows": int(rows)})
        await self._send(envelope(self._id, "TERMINAL_RESIZE", size))

    async def _heartbeat(self) -> None:
        while self._ended is None:
            await trio.sleep(self._settings.ping_interval)
            try:
                await self._send(envelope(self._id, "PING", ""))
            except TerminalEnded:
                return  # receive() reports why

    async def _close(self) -> None:
        with trio.move_on_after(self._settings.close_timeout) as scope:
            scope.shield = True
            if self._ended is None:
                with suppress(TerminalEnded):
                    await self._send(envelope(self._id, "CLOSE", ""))
                self._ended = TerminalClosed("the terminal was closed")
            await self._ws.aclose()


@asynccontextmanager
async def open_terminal(
    config: ServerConfig,
    cookie_header: str,
    token_id: str,
    *,
    cols: int = 80,
    rows: int = 24,
    settings: KokoSettings | None = None,
) -> AsyncIterator[KokoTerminal]:
    """Open a KoKo terminal for a ``web_cli`` connection token, authenticated by cookies."""
    settings = settings or KokoSettings()
    resource = f"{config.base_path}{TERMINAL_PATH}?token={quote(token_id, safe='')}"
    terminal: KokoTerminal | None = None
    with koko_failures():
        async with trio.open_nursery() as nursery:
            ws = await connect_socket(nursery, config, resource, cookie_header, settings)
            try:
                connect_id = await await_connect(ws, settings.connect_timeout)
                terminal = KokoTerminal(ws, connect_id, settings)
                init = json.dumps({"cols": int(cols), "rows": int(rows), "code": ""})
                await terminal._send(envelope(connect_id, "TERMINAL_INIT", init))
                nursery.start_soon(terminal._heartbeat)
                yield terminal
            finally:
                if terminal is not None:
                    await terminal._close()
                else:
                    with trio.move_on_after(settings.close_timeout) as scope:
                        scope.shield = True
                        await ws.aclose()
                nursery.cancel_scope.cancel()
