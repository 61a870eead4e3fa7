"""KoKo's terminal WebSocket (``/koko/ws/terminal/``) backed by real local PTY shells.

Behaviour follows the fact sheet, section 7: cookie auth with a 302 to the login page,
CONNECT, TERMINAL_INIT, then KoKo's connect phase (v4.10.15 ``server.go``: a
``<account>'s password: `` prompt that reads a line of input when the token carries no secret,
the ``Connecting to <account>@<address>  0.0`` counter rewritten every 100 ms, and on a failed
asset login ``Connecting to … error: <reason>`` then CLOSE), TERMINAL_SESSION, title bytes,
SHARE_JOIN, binary output, CLOSE on shell exit, never a close frame from the server, read
deadline, heartbeat on KoKo's ticker, the limits and core tasks of ``_koko_tasks`` (idle, max
time, expired permission, admin kill, pause), and injected faults that drop the socket.
Input sent during the connect phase waits for the shell, unless a prompt consumes it.
Not simulated: share/monitor/k8s modes (answered with ERROR), session sharing messages,
ZMODEM, keyboard-interactive prompts, and non-English notices.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from datetime import UTC, datetime

import trio
from starlette.websockets import WebSocket

from jsctl_koko import KokoMessage, MessageType, decode_client_message
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
from jsctl_sandbox._koko_tasks import LIVE_TERMINALS, TerminalTasks
from jsctl_sandbox.koko_contract import KokoBackend, KokoGrant, KokoSettings, KokoUser
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
        self._initialised = False  # TERMINAL_INIT came: input waits for the shell from now on
        self._tasks: TerminalTasks | None = None
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
                if self._initialised:
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
            if message.id == self._ws_id and not self._initialised:
                self._initialised = True
                assert self._nursery is not None
                self._nursery.start_soon(self._connect, _window_size(message) or _DEFAULT_SIZE)
        elif kind == MessageType.CLOSE:
            await self._finish(b"")
        elif not self._initialised:
            return  # nothing but INIT/CLOSE/PING matters before the session starts
        elif kind == MessageType.TERMINAL_DATA:
            await self._input(message.data.encode())
        elif kind == MessageType.TERMINAL_BINARY:
            await self._input(message.raw)
        elif (
            kind == MessageType.TERMINAL_RESIZE
            and (size := _window_size(message))
            and self._shell is not None
        ):
            self._shell.resize(*size)
            self._touch()

    async def _input(self, data: bytes) -> None:
        if not data or self._finished:
            return
        if self._tasks is not None and self._tasks.paused:
            return  # KoKo's filterUserInput: a paused session drops input silently
        self._touch()
        # BrokenResourceError: the session ended while this input waited.
        with contextlib.suppress(trio.BrokenResourceError):
            await self._input_send.send(data)

    async def _connect(self, size: tuple[int, int]) -> None:
        """KoKo's connect phase: the password prompt if needed, the counter, then the shell."""
        grant, settings = self._grant, self._settings
        assert grant is not None
        account = f"{grant.account_name}({grant.account_username})"
        if grant.needs_password:
            await self._outbox.binary(f"{account}'s password: ".encode())
            if await self._read_line() is None:
                return
            await self._outbox.binary(b"\r\n")
        target = f"Connecting to {account}@{grant.asset_address}"
        async with trio.open_nursery() as counting:
            counting.start_soon(self._count, target)
            await trio.sleep(settings.asset_connect_s)
            counting.cancel_scope.cancel()
        await self._outbox.binary(b"\r\n")
        if settings.asset_login_error:
            await self._outbox.binary(f"{target} error: {settings.asset_login_error}\r\n".encode())
            await self._finish(b"")
            return
        shell = PtyShell.bash(
            workdir=grant.workdir,
            hostname=grant.hostname,
            cols=size[0],
            rows=size[1],
            extra_env=grant.shell_env,
        )
        await shell.start()
        self._shell = shell
        await self._run_session(shell)

    async def _count(self, target: str) -> None:
        """``Connecting to …  0.0``, the seconds rewritten with backspaces every 100 ms."""
        shown = "0.0"
        await self._outbox.binary(f"{target}  {shown}".encode())
        delay = 0.0
        while True:
            await trio.sleep(0.1)
            delay += 0.1
            text = f"{delay:.1f}"
            await self._outbox.binary(("\x08" * len(shown) + text).encode())
            shown = text

    async def _read_line(self) -> bytes | None:
        """A line typed at a prompt (the rest of its chunk is lost, as with Go's term reader)."""
        line = b""
        async for chunk in self._input_receive:
            for end in (b"\r", b"\n"):
                if end in chunk:
                    return line + chunk.split(end, 1)[0]
            line += chunk
        return None

    async def _run_session(self, shell: PtyShell) -> None:
        """The PTY's life: output pump, input writer, KoKo's limits and tasks."""
        assert self._grant is not None
        started = datetime.now(UTC)
        data = session_data(self._grant, str(uuid.uuid4()), started)
        tasks = TerminalTasks(data["session"]["id"], self._backend, self._finish, self._notify)
        self._tasks = tasks
        LIVE_TERMINALS[tasks.session_id] = tasks
        try:
            with self._session_scope:
                self._backend.record_session(self._grant, data["session"])
                await self._outbox.message(MessageType.TERMINAL_SESSION, data=data)
                grant = self._grant
                title = (
                    f"\x1b]2;{grant.protocol}://{grant.account_username}@{grant.asset_address}\x07"
                )
                await self._outbox.binary(title.encode())
                join = share_join_data(grant, started)
                await self._outbox.message(MessageType.TERMINAL_SHARE_JOIN, data=join)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write_input, shell)
                    nursery.start_soon(tasks.watch)
                    await self._pump_output(shell)
        finally:
            LIVE_TERMINALS.pop(tasks.session_id, None)
            self._input_receive.close()
            await shell.aclose()

    async def _notify(self, kind: str, data: str) -> None:
        await self._outbox.message(kind, id=self._ws_id, data=data)

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
                    await self._output(splitter.feed(chunk, full=len(chunk) == _READ_CHUNK))
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
        """Input, output or a resize: KoKo's idle clock starts again."""
        if self._tasks is not None:
            self._tasks.active()

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
