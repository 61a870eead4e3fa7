"""A KoKo web-terminal client (sheet 7) satisfying :class:`jsctl_daemon.terminal.TerminalTransport`.

``open_terminal(...)`` connects ``wss://<host>/koko/ws/terminal/?token=<id>`` with the web
session cookie (or, on v5, the access key: see koko_auth), waits for CONNECT, sends
TERMINAL_INIT, waits until KoKo has logged in to the asset (TERMINAL_SESSION comes right before
KoKo starts relaying the shell; input sent earlier could be eaten by a password or
keyboard-interactive prompt), then yields a :class:`KokoTerminal` — or yields it earlier, not
yet ``relaying``, when KoKo asks in the terminal for a secret that a person must answer. How a
session ended is only ever said in the terminal: KoKo prints a red notice (idle, max time,
expired permission, admin kill) or ``Connecting to … error: …`` before CLOSE (sheet 7.6);
:mod:`._koko_notice` reads it into the end reason.

A :class:`KokoHeartbeat` PINGs terminals and notices dead ones. The daemon runs one for all
its terminals (a task per terminal would cost memory for every idle session); a terminal opened
without one gets a private heartbeat for its lifetime. Liveness never depends on WebSocket
pongs: KoKo answers pings from its read loop, which blocks while the asset is not reading input;
but its own PING comes at most ~90 s after its last write (a 1-minute ticker, after 30 s quiet),
so only silence longer than that (``liveness``, 120 s) means the connection is dead.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import quote

import trio
from trio_websocket import ConnectionClosed

from jsctl_daemon.jumpserver._koko_notice import NoticeTail, prompt_in
from jsctl_daemon.jumpserver._koko_socket import await_connect, connect_terminal, koko_failures
from jsctl_daemon.jumpserver._terminal_socket import TerminalSocket
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import (
    TerminalClosed,
    TerminalEnded,
    TerminalLost,
    TerminalRefused,
)
from jsctl_daemon.jumpserver.koko_auth import KokoCredentials
from jsctl_koko import encode_client_message, read_terminal_frame

__all__ = ["KokoHeartbeat", "KokoSettings", "KokoTerminal", "open_terminal"]

TERMINAL_PATH = "/koko/ws/terminal/"


@dataclass(frozen=True)
class KokoSettings:
    """Timing knobs (seconds)."""

    connect_timeout: float = 20.0  # TCP+TLS+upgrade, and again for CONNECT
    asset_timeout: float = 90.0  # KoKo's login to the asset ("Connecting to …  0.0")
    ping_interval: float = 25.0  # KoKo drops a reader that is silent for 5 minutes
    # KoKo PINGs on a 1-minute ticker once 30 s passed without a write: at most ~90 s of
    # silence from a connection it still serves; 30 s more for a loaded server or network.
    liveness: float = 120.0
    close_timeout: float = 3.0

    @property
    def tick(self) -> float:
        """How often a heartbeat looks at its terminals."""
        return min(self.ping_interval, self.liveness) / 4


class KokoTerminal:
    """One live KoKo terminal: output via ``receive()``, input, resize, session ``info``."""

    def __init__(self, ws: TerminalSocket, connect_id: str, settings: KokoSettings) -> None:
        self._ws = ws
        self._id = connect_id
        self._settings = settings
        self._info: dict[str, Any] = {"connect_id": connect_id}
        self._ended: TerminalEnded | None = None
        # Heartbeat bookkeeping (trio clock): when we last sent anything, when we last pinged
        # (when KoKo last said anything, pongs included, is the socket's ``heard_at``).
        self._sent_at = self._pinged_at = trio.current_time()
        self._tail = NoticeTail()  # the last output, where KoKo says why it ends a session
        self.early: list[bytes] = []  # output before the shell relayed (the connect phase)

    @property
    def info(self) -> dict[str, Any]:
        """KoKo's session (its ``id`` and ``asset``), ``relaying``, pause state, ``connect_id``."""
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
        """The next output bytes; raises TerminalClosed / TerminalLost when the terminal ends.

        A silent connection is the heartbeat's business: it aborts the socket, which ends this.
        """
        while True:
            if self._ended is not None:
                raise self._ended
            if self.early:
                return self.early.pop(0)
            return await self._next_output()

    async def _next_output(self) -> bytes:
        while True:
            if self._ended is not None:
                raise self._ended
            try:
                message = await self._ws.get_message()
            except ConnectionClosed as exc:
                code = exc.reason.code if exc.reason else 1006
                self._end(TerminalLost(f"the connection to KoKo dropped (code {code})"))
            if isinstance(message, bytes):
                if message:
                    self._tail.feed(message)
                    return message
                continue
            self._handle_text(message)

    async def _await_shell(self, limit_s: float) -> None:
        """Wait until KoKo relays the asset's shell (TERMINAL_SESSION), keeping the output.

        A failed asset login (CLOSE) or no shell within ``limit_s`` refuse the terminal. When
        KoKo asks for a secret first (an ``@INPUT``/``@USER`` account, a password or
        keyboard-interactive prompt), the terminal is handed over at once with ``relaying``
        False and ``connect_prompt`` set: only a person answers it (``jsctl secret``), and
        nothing else may be typed before ``relaying`` turns True.
        """
        with trio.move_on_after(limit_s):
            while "session" not in self._info:
                try:
                    chunk = await self._next_output()
                except TerminalEnded as exc:
                    raise TerminalRefused(exc.reason) from None
                self.early.append(chunk)
                asking = prompt_in(self._tail.data)
                if asking is not None:
                    self._info["relaying"] = False
                    self._info["connect_prompt"] = asking
                    return
            self._info["relaying"] = True
            return
        raise TerminalRefused(f"KoKo did not connect to the asset within {limit_s:g} s")

    def _handle_text(self, text: str) -> None:
        news = read_terminal_frame(text)
        if news is None:
            return
        if news.closed:
            self._end(TerminalClosed(self._tail.reason()))
        if news.error is not None:
            self._end(TerminalClosed(f"KoKo ended the terminal: {news.error}"))
        self._info.update(news.facts)
        if news.shell:
            self._info["relaying"] = True  # KoKo logged in to the asset: the shell is next
            self._info.pop("connect_prompt", None)

    async def _send(self, message: str | bytes) -> None:
        if self._ended is not None:
            raise self._ended
        self._sent_at = trio.current_time()
        try:
            await self._ws.send_message(message)  # trio-websocket serialises concurrent sends
        except ConnectionClosed as exc:
            code = exc.reason.code if exc.reason else 1006
            self._end(TerminalLost(f"the connection to KoKo dropped (code {code})"))

    async def send_input(self, data: bytes) -> None:
        """Keystrokes: TERMINAL_DATA when the bytes are UTF-8 text, a binary frame otherwise."""
        if not data:
            return
        if b"\r" in data or b"\n" in data:
            self._info.pop("connect_prompt", None)  # answered; KoKo may still ask again
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            await self._send(data)
            return
        await self._send(encode_client_message(self._id, "TERMINAL_DATA", text))

    async def resize(self, cols: int, rows: int) -> None:
        """Tell KoKo the new window size."""
        size = json.dumps({"cols": int(cols), "rows": int(rows)})
        await self._send(encode_client_message(self._id, "TERMINAL_RESIZE", size))

    def _beat(self, now: float, settings: KokoSettings, nursery: trio.Nursery) -> bool:
        """One heartbeat look; False once the terminal has ended (forget it).

        Dead only after ``liveness`` of silence: KoKo's own PINGs come at most ~90 s apart, and
        a missing pong proves nothing (KoKo's read loop, which answers pings, blocks while the
        asset does not read input). Answered WebSocket pings count as hearing from KoKo.
        """
        if self._ended is not None:
            return False
        silent = now - self._ws.heard_at
        if silent < settings.liveness:
            if now - self._sent_at >= settings.ping_interval:
                self._sent_at = now  # KoKo's read deadline wants a message now and then
                nursery.start_soon(self._ping)
            if now - self._pinged_at >= settings.ping_interval:
                self._pinged_at = now  # one WebSocket ping in flight at a time
                nursery.start_soon(self._ws_ping, settings.liveness)
            return True
        self._ended = TerminalLost(
            f"KoKo sent nothing for {silent:.0f} s (the connection is probably dead)"
        )
        nursery.start_soon(self._abort)
        return False

    async def _ping(self) -> None:
        with suppress(TerminalEnded):  # receive() reports why
            await self._send(encode_client_message(self._id, "PING", ""))

    async def _ws_ping(self, patience: float) -> None:
        with trio.move_on_after(patience), suppress(ConnectionClosed):
            await self._ws.ping()  # the pong moves the socket's heard_at when it is read

    async def _abort(self) -> None:
        """Drop a dead connection: closing the WebSocket wakes a pending receive()."""
        with trio.move_on_after(self._settings.close_timeout):
            await self._ws.aclose()

    async def _close(self) -> None:
        with trio.move_on_after(self._settings.close_timeout) as scope:
            scope.shield = True
            if self._ended is None:
                with suppress(TerminalEnded):
                    await self._send(encode_client_message(self._id, "CLOSE", ""))
                self._ended = TerminalClosed("the terminal was closed")
            await self._ws.aclose()


class KokoHeartbeat:
    """PINGs every registered terminal each ``ping_interval``; ends one silent for ``liveness``.

    KoKo drops a reader that stays silent for minutes, and a connection that died without a
    FIN is only noticed by a deadline; one task looks after every terminal.
    """

    def __init__(self, settings: KokoSettings | None = None) -> None:
        self.settings = settings or KokoSettings()
        self._terminals: set[KokoTerminal] = set()

    def add(self, terminal: KokoTerminal) -> None:
        """Look after ``terminal`` until it ends."""
        self._terminals.add(terminal)

    def discard(self, terminal: KokoTerminal) -> None:
        """Stop looking after ``terminal``."""
        self._terminals.discard(terminal)

    async def run(self) -> None:
        """Beat forever (cancel to stop); PINGs and aborts run as tasks of its own."""
        async with trio.open_nursery() as nursery:
            while True:
                await trio.sleep(self.settings.tick)
                now = trio.current_time()
                for terminal in list(self._terminals):
                    if not terminal._beat(now, self.settings, nursery):
                        self._terminals.discard(terminal)


def open_terminal(
    config: ServerConfig,
    credentials: str | KokoCredentials,
    token_id: str,
    *,
    cols: int = 80,
    rows: int = 24,
    settings: KokoSettings | None = None,
    heartbeat: KokoHeartbeat | None = None,
) -> AbstractAsyncContextManager[KokoTerminal]:
    """Open a KoKo terminal for a ``web_cli`` connection token.

    ``credentials``: the web-session cookie header, or KokoCredentials (v5: the access key).

    ``heartbeat`` (running elsewhere) looks after the terminal; without one a private heartbeat
    runs with ``settings`` for as long as the terminal is open. No task runs per terminal:
    whoever calls ``receive()`` reads the socket.
    """
    settings = settings or KokoSettings()
    resource = f"{config.base_path}{TERMINAL_PATH}?token={quote(token_id, safe='')}"
    if heartbeat is None:
        return _with_own_heartbeat(config, credentials, resource, (cols, rows), settings)
    return _OpenTerminal(config, credentials, resource, (cols, rows), settings, heartbeat)


@asynccontextmanager
async def _with_own_heartbeat(
    config: ServerConfig,
    credentials: str | KokoCredentials,
    resource: str,
    size: tuple[int, int],
    settings: KokoSettings,
) -> AsyncIterator[KokoTerminal]:
    with koko_failures():
        async with trio.open_nursery() as nursery:
            heartbeat = KokoHeartbeat(settings)
            nursery.start_soon(heartbeat.run)
            try:
                async with _OpenTerminal(
                    config, credentials, resource, size, settings, heartbeat
                ) as terminal:
                    del credentials
                    yield terminal
            finally:
                nursery.cancel_scope.cancel()


class _OpenTerminal(AbstractAsyncContextManager[KokoTerminal]):
    """One terminal, open for the block: a slotted object rather than an async generator, since
    it lives as long as the terminal (a generator's frame and wrapper are ~0.7 KiB)."""

    __slots__ = ("_heartbeat", "_opening", "_settings", "_terminal")

    def __init__(
        self,
        config: ServerConfig,
        credentials: str | KokoCredentials,
        resource: str,
        size: tuple[int, int],
        settings: KokoSettings,
        heartbeat: KokoHeartbeat,
    ) -> None:
        self._opening: tuple[ServerConfig, str | KokoCredentials, str, tuple[int, int]] | None
        self._opening = (config, credentials, resource, size)  # dropped once open
        self._settings = settings
        self._heartbeat = heartbeat
        self._terminal: KokoTerminal | None = None

    async def __aenter__(self) -> KokoTerminal:
        assert self._opening is not None, "a terminal is opened once"
        (config, credentials, resource, (cols, rows)), self._opening = self._opening, None
        settings = self._settings
        ws = await connect_terminal(config, resource, credentials, settings)
        del credentials
        try:
            connect_id = await await_connect(ws, settings.connect_timeout)
            terminal = KokoTerminal(ws, connect_id, settings)
            self._terminal = terminal
            init = json.dumps({"cols": int(cols), "rows": int(rows), "code": ""})
            await terminal._send(encode_client_message(connect_id, "TERMINAL_INIT", init))
            await terminal._await_shell(settings.asset_timeout)
        except BaseException:
            await self._close(ws)
            raise
        self._heartbeat.add(terminal)
        return terminal

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._terminal is not None:
            await self._close(None)

    async def _close(self, ws: TerminalSocket | None) -> None:
        terminal, self._terminal = self._terminal, None
        if terminal is not None:
            self._heartbeat.discard(terminal)
            await terminal._close()
        elif ws is not None:
            with trio.move_on_after(self._settings.close_timeout) as scope:
                scope.shield = True
                await ws.aclose()
