"""KoKo's terminal WebSocket (``/koko/ws/terminal/``) backed by real local PTY shells.

Behaviour follows the fact sheet, section 7: cookie auth with a 302 to the login page,
CONNECT, TERMINAL_INIT, title bytes, TERMINAL_SESSION/SHARE_JOIN, binary output, CLOSE
on shell exit, never a close frame from the server, read deadline, heartbeat, idle and
max-session cut-offs, and injected faults that drop the socket abruptly.
Not simulated: share/monitor/k8s modes (answered with ERROR), session sharing messages,
ZMODEM, password prompts for virtual accounts, and non-English notices.
"""

from __future__ import annotations

import contextlib
import math
import random
import uuid
from datetime import UTC, datetime

import trio
from starlette.websockets import WebSocket

from jsctl_sandbox._koko_abort import abort_connection
from jsctl_sandbox._koko_io import (
    MISSING_PARAMS_ERROR,
    SUBPROTOCOL,
    Outbox,
    Utf8Splitter,
    accept_koko_socket,
    consume_token,
    heartbeat,
    receive_within,
)
from jsctl_sandbox._koko_session import connect_data, session_data, share_join_data
from jsctl_sandbox.koko_contract import KokoBackend, KokoGrant, KokoSettings, KokoUser
from jsctl_sandbox.koko_envelope import KokoMessage, MessageType, decode_client_message
from jsctl_sandbox.pty_shell import PtyShell

__all__ = ["MISSING_PARAMS_ERROR", "SUBPROTOCOL", "terminal_endpoint"]

_READ_CHUNK = 32 * 1024
_DEFAULT_SIZE = (80, 24)  # when TERMINAL_INIT carries no usable size
_INPUT_QUEUE = 256  # client input frames buffered while the PTY is slow to take them
_EXIT_DRAIN_S = 0.5  # after the shell exits, how long its last output may take to arrive


async def terminal_endpoint(websocket: WebSocket) -> None:
    """Serve one KoKo terminal WebSocket using ``websocket.app.state.koko_backend``."""
    accepted = await accept_koko_socket(websocket)
    if accepted is not None:
        await _TerminalConnection(websocket, *accepted).run()


def _red_notice(text: str) -> bytes:
    return f"\r\n\x1b[31m{text}\x1b[0m\r\n".encode()


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return str(round(minutes)) if math.isclose(minutes, round(minutes)) else f"{minutes:.2f}"


def _window_size(message: KokoMessage) -> tuple[int, int] | None:
    """``{"cols","rows"}`` from a message's data, None when absent or out of range."""
    payload = message.json_data()
    if not isinstance(payload, dict):
        return None
    cols, rows = payload.get("cols"), payload.get("rows")
    if isinstance(cols, int) and isinstance(rows, int) and 0 < cols < 65536 and 0 < rows < 65536:
        return cols, rows
    return None


class _TerminalConnection:
    """One accepted terminal socket: token, CONNECT/INIT handshake, then a PTY session."""

    def __init__(self, websocket: WebSocket, backend: KokoBackend, user: KokoUser) -> None:
        self._websocket = websocket
        self._backend = backend
        self._user = user
        self._outbox = Outbox(websocket, v3=backend.settings.version.startswith("3."))
        self._ws_id = str(uuid.uuid4())
        self._grant: KokoGrant | None = None
        self._shell: PtyShell | None = None
        self._input_send, self._input_receive = trio.open_memory_channel[bytes](_INPUT_QUEUE)
        self._session_scope = trio.CancelScope()
        self._finished = False
        self._idle_scope = trio.CancelScope()
        self._output_bytes = 0
        self._nursery: trio.Nursery | None = None

    @property
    def _settings(self) -> KokoSettings:
        # Read afresh each time: the sandbox's control API changes knobs and faults live.
        return self._backend.settings

    async def run(self) -> None:
        """Handle the socket until the client goes away or the connection is dropped."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await self._open()
            nursery.start_soon(heartbeat, self._outbox, self._ws_id, self._backend)
            await self._receive_loop()
            nursery.cancel_scope.cancel()

    async def _open(self) -> None:
        """Token checks, then CONNECT; on failure the socket stays open but silent."""
        params = self._websocket.query_params
        # Share/monitor/k8s modes are not simulated: answered like a missing token.
        token = "" if params.get("type", "") else params.get("token", "")
        self._grant = await consume_token(self._outbox, self._backend, self._user, token)
        if self._grant is None:
            return
        data = connect_data(self._user, self._grant, self._settings)
        await self._outbox.message(MessageType.CONNECT, id=self._ws_id, data=data)

    async def _receive_loop(self) -> None:
        """Read client frames until disconnect; a silent client past the deadline is dropped."""
        while True:
            frame = await receive_within(self._websocket, self._settings.read_deadline_s)
            if frame is None:
                self._abort()
                return
            if frame["type"] == "websocket.disconnect":
                return
            if frame.get("bytes") is not None:
                if self._shell is not None:
                    await self._input(frame["bytes"])
            elif frame.get("text") is not None:
                message = decode_client_message(frame["text"])
                if message is not None:
                    await self._handle(message)

    async def _handle(self, message: KokoMessage) -> None:
        kind = message.type
        if self._grant is None or self._outbox.silenced.is_set():
            return  # after ERROR/CLOSE, or for a refused token, nothing is answered
        if kind == MessageType.TERMINAL_INIT:
            if message.id == self._ws_id and self._shell is None:
                await self._start_session(message)
        elif kind == MessageType.CLOSE:
            await self._finish(b"")
        elif self._shell is None:
            return  # nothing but INIT/CLOSE/PING matters before the session starts
        elif kind == MessageType.TERMINAL_DATA:
            await self._input(message.data.encode())
        elif kind == MessageType.TERMINAL_BINARY:
            await self._input(message.raw)
        elif kind == MessageType.TERMINAL_RESIZE and (size := _window_size(message)):
            self._shell.resize(*size)

    async def _input(self, data: bytes) -> None:
        if data and not self._finished:
            self._touch()
            # BrokenResourceError: the session ended while this input waited.
            with contextlib.suppress(trio.BrokenResourceError):
                await self._input_send.send(data)

    async def _start_session(self, init: KokoMessage) -> None:
        assert self._grant is not None and self._nursery is not None
        grant = self._grant
        cols, rows = _window_size(init) or _DEFAULT_SIZE
        shell = PtyShell.bash(
            workdir=grant.workdir,
            hostname=grant.hostname,
            cols=cols,
            rows=rows,
            extra_env=grant.shell_env,
        )
        await shell.start()
        self._shell = shell
        self._touch()
        title = f"\x1b]2;{grant.protocol}://{grant.account_username}@{grant.asset_address}\x07"
        await self._outbox.binary(title.encode())
        self._nursery.start_soon(self._run_session, shell)

    async def _run_session(self, shell: PtyShell) -> None:
        """The PTY's life: output pump, input writer, exit/idle/max-time watchers."""
        try:
            with self._session_scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._announce_session)
                    nursery.start_soon(self._write_input, shell)
                    nursery.start_soon(self._watch_idle)
                    nursery.start_soon(self._watch_max_time)
                    await self._pump_output(shell)
        finally:
            self._input_receive.close()
            await shell.aclose()

    async def _announce_session(self) -> None:
        assert self._grant is not None
        started = datetime.now(UTC)
        data = session_data(self._grant, str(uuid.uuid4()), started)
        self._backend.record_session(self._grant, data["session"])
        await self._outbox.message(MessageType.TERMINAL_SESSION, data=data)
        join = share_join_data(self._grant, started)
        await self._outbox.message(MessageType.TERMINAL_SHARE_JOIN, data=join)

    async def _write_input(self, shell: PtyShell) -> None:
        async for data in self._input_receive:
            await shell.write(data)

    async def _pump_output(self, shell: PtyShell) -> None:
        """Terminal output as binary frames; when the shell ends, CLOSE."""
        splitter = Utf8Splitter()
        with trio.CancelScope() as drain_scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._limit_drain_after_exit, shell, drain_scope)
                while chunk := await shell.read(_READ_CHUNK):
                    await self._output(splitter.feed(chunk))
                nursery.cancel_scope.cancel()
        await self._output(splitter.flush())
        await self._finish(b"")

    async def _limit_drain_after_exit(self, shell: PtyShell, drain_scope: trio.CancelScope) -> None:
        # Background jobs may keep the PTY open after bash exits; a real SSH session ends anyway.
        await shell.wait()
        drain_scope.deadline = trio.current_time() + _EXIT_DRAIN_S

    async def _output(self, data: bytes) -> None:
        if not data:
            return
        self._touch()
        settings = self._settings
        if settings.drop_randomly and random.random() < settings.drop_randomly:
            self._abort()
            return
        if settings.drop_on_output and settings.drop_on_output.encode() in data:
            self._abort()  # one chosen terminal dies mid-command, as a cut network does
            return
        await self._outbox.binary(data)
        self._output_bytes += len(data)
        if (
            settings.drop_after_bytes is not None
            and self._output_bytes >= settings.drop_after_bytes
        ):
            self._abort()

    def _touch(self) -> None:
        """Bytes moved: the idle cut-off starts counting again."""
        self._idle_scope.deadline = trio.current_time() + self._settings.idle_timeout_s

    async def _watch_idle(self) -> None:
        limit = self._settings.idle_timeout_s
        with self._idle_scope:  # activity pushes its deadline back (see _touch)
            await trio.sleep_forever()
        await self._finish(
            _red_notice(f"Connect idle more than {_minutes(limit)} minutes, disconnect")
        )

    async def _watch_max_time(self) -> None:
        await trio.sleep(self._settings.max_session_s)
        await self._finish(_red_notice("Session max time reached, disconnect"))

    async def _finish(self, notice: bytes) -> None:
        """End the session: optional red notice, CLOSE, then silence until the client closes."""
        if self._finished:
            return
        self._finished = True
        await self._outbox.binary(notice)
        await self._outbox.final(MessageType.CLOSE, id=self._ws_id)
        self._session_scope.cancel()

    def _abort(self) -> None:
        """Drop the connection without a close frame, as a KoKo-side failure does."""
        self._finished = True
        self._outbox.silence()
        abort_connection(self._websocket.scope)
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()
