"""A terminal's WebSocket is read by its consumer: no task per terminal, and hostile peers.

The local tests run against the sandbox's KoKo served bare; the hostile ones against a raw
server speaking wsproto (or garbage) on a real TCP socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial

import pytest
import trio
from sandbox.test_koko_support import ALICE  # type: ignore[import-not-found,unused-ignore]
from trio_websocket import ConnectionClosed, ConnectionRejected
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)

from jsctl_daemon.jumpserver._koko_socket import connect_terminal
from jsctl_daemon.jumpserver._terminal_socket import TerminalSocket, open_terminal_socket
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import LoginRequired, TerminalRefused
from jsctl_daemon.jumpserver.koko import KokoHeartbeat, KokoSettings, open_terminal

from .conftest import WAIT_S, read_until
from .test_koko_local import Site, site


def _tasks() -> int:
    """The tasks under the current task."""
    count, todo = 0, [trio.lowlevel.current_task()]
    while todo:
        task = todo.pop()
        count += 1
        todo += [child for nursery in task.child_nurseries for child in nursery.child_tasks]
    return count


async def test_open_terminals_run_no_task_of_their_own() -> None:
    async def client(s: Site) -> None:  # its own task: the server's tasks are not under it
        async with trio.open_nursery() as nursery:
            heartbeat = KokoHeartbeat()
            nursery.start_soon(heartbeat.run)
            await trio.lowlevel.checkpoint()
            before = _tasks()
            async with AsyncExitStack() as stack:
                for _ in range(5):
                    token = s.backend.issue_token(ALICE)
                    term = await stack.enter_async_context(
                        open_terminal(s.config, s.cookie(), token, heartbeat=heartbeat)
                    )
                    await read_until(term, b"$ ")
                assert _tasks() == before  # trio-websocket ran a reader task per terminal
                await term.send_input(b"echo ok-$((6*7))\r")
                await read_until(term, b"ok-42")
            nursery.cancel_scope.cancel()

    async with site() as s, trio.open_nursery() as nursery:
        nursery.start_soon(client, s)


async def test_a_pong_counts_as_hearing_from_koko_while_the_consumer_waits() -> None:
    async with site(server_ping_after_s=3600.0) as s:
        settings = KokoSettings(ping_interval=3600.0)
        token = s.backend.issue_token(ALICE)
        async with open_terminal(s.config, s.cookie(), token, settings=settings) as term:
            await read_until(term, b"$ ")
            ws = term._ws
            await trio.sleep(0.05)
            quiet_since = ws.heard_at
            async with trio.open_nursery() as nursery:
                nursery.start_soon(term.receive)  # the consumer: no output is coming
                await ws.ping(b"hello?")
                with trio.fail_after(WAIT_S):
                    while ws.heard_at == quiet_since:  # noqa: ASYNC110 - a pong has no event
                        await trio.sleep(0.01)
                nursery.cancel_scope.cancel()
            await term.send_input(b"echo after-$((1+1))\r")
            await read_until(term, b"after-2")


Peer = Callable[[trio.SocketStream, WSConnection], Awaitable[None]]


@asynccontextmanager
async def raw_server(peer: Peer) -> AsyncIterator[int]:
    """A server on 127.0.0.1 that reads the upgrade request, then lets ``peer`` answer."""

    async def handle(stream: trio.SocketStream) -> None:
        server = WSConnection(ConnectionType.SERVER)
        while not any(isinstance(event, Request) for event in server.events()):
            server.receive_data(await stream.receive_some(65536))
        await peer(stream, server)
        with trio.move_on_after(WAIT_S):
            while await stream.receive_some(65536):
                pass

    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(partial(trio.serve_tcp, host="127.0.0.1"), handle, 0)
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def _socket(port: int, *, max_message_size: int = 2**20) -> TerminalSocket:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    return await open_terminal_socket(
        stream,
        "127.0.0.1",
        "/koko/ws/terminal/?token=t",
        subprotocols=["JMS-KOKO"],
        headers=[(b"Cookie", b"jms_sessionid=x")],
        max_message_size=max_message_size,
    )


async def _accept(stream: trio.SocketStream, server: WSConnection) -> None:
    await stream.send_all(server.send(AcceptConnection(subprotocol="JMS-KOKO")))


async def test_fragments_make_one_message_and_a_close_is_answered() -> None:
    answered: list[bool] = []

    async def peer(stream: trio.SocketStream, server: WSConnection) -> None:
        await _accept(stream, server)
        data = server.send(TextMessage(data="hel", message_finished=False))
        data += server.send(TextMessage(data="lo", message_finished=True))
        await stream.send_all(data + server.send(CloseConnection(code=4001, reason="bye")))
        with trio.fail_after(WAIT_S):
            while not any(answered):
                server.receive_data(await stream.receive_some(65536))
                answered.extend(isinstance(e, CloseConnection) for e in server.events())

    async with raw_server(peer) as port:
        ws = await _socket(port)
        assert await ws.get_message() == "hello"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason is not None
        assert closed.value.reason.code == 4001
        with trio.fail_after(WAIT_S):
            while not any(answered):  # noqa: ASYNC110 - the peer's task sees the answer
                await trio.sleep(0.01)
        with pytest.raises(ConnectionClosed):
            await ws.send_message("late")


async def test_an_oversized_message_closes_with_1009() -> None:
    async def peer(stream: trio.SocketStream, server: WSConnection) -> None:
        await _accept(stream, server)
        await stream.send_all(server.send(TextMessage(data="x" * 5000)))

    async with raw_server(peer) as port:
        ws = await _socket(port, max_message_size=4096)
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason is not None
        assert closed.value.reason.code == 1009


async def test_garbage_after_the_upgrade_is_a_protocol_error_told_to_the_peer() -> None:
    told: list[int] = []

    async def peer(stream: trio.SocketStream, server: WSConnection) -> None:
        await _accept(stream, server)
        await stream.send_all(b"\x7f\xff" + b"\x00" * 64)  # reserved bits, unknown opcode
        with trio.fail_after(WAIT_S):
            while not told and (data := await stream.receive_some(65536)):
                server.receive_data(data)
                told.extend(e.code for e in server.events() if isinstance(e, CloseConnection))

    async with raw_server(peer) as port:
        ws = await _socket(port)
        with trio.fail_after(WAIT_S), pytest.raises(ConnectionClosed) as closed:
            await ws.get_message()
        assert closed.value.reason is not None
        assert closed.value.reason.code == 1002
        with trio.fail_after(WAIT_S):
            while not told:  # noqa: ASYNC110 - the peer's task sees the close frame
                await trio.sleep(0.01)
        assert told == [1002]


async def test_a_refused_upgrade_carries_status_and_body() -> None:
    async def peer(stream: trio.SocketStream, server: WSConnection) -> None:
        refusal = RejectConnection(status_code=403, has_body=True, headers=[])
        await stream.send_all(server.send(refusal))
        await stream.send_all(server.send(RejectData(data=b"no entry", body_finished=True)))

    async with raw_server(peer) as port:
        with pytest.raises(ConnectionRejected) as rejected:
            await _socket(port)
        assert (rejected.value.status_code, rejected.value.body) == (403, b"no entry")
        config = ServerConfig(f"http://127.0.0.1:{port}")
        with pytest.raises(LoginRequired):
            await connect_terminal(config, "/koko/ws/terminal/", "c=1", KokoSettings())


async def test_a_drop_during_the_upgrade_is_refused_clearly() -> None:
    async def peer(stream: trio.SocketStream, server: WSConnection) -> None:
        await stream.aclose()

    async with raw_server(peer) as port:
        config = ServerConfig(f"http://127.0.0.1:{port}")
        with pytest.raises(TerminalRefused, match="during the WebSocket upgrade"):
            await connect_terminal(config, "/koko/ws/terminal/", "c=1", KokoSettings())
