"""Liveness of KoKo terminals: never kill one KoKo still serves, still find a cut network.

KoKo PINGs on a one-minute ticker once 30 s passed without a write, so a quiet terminal it
serves may say nothing for ~90 s; it answers WebSocket pings from its read loop, which blocks
while the asset does not read input (sheet 7.6). The sandbox runs KoKo's ticker with short
intervals here; a relay stands in for the blocked read loop (it eats KoKo's pongs) and for a
cut network (it swallows everything, both ways, without a FIN).
"""

from __future__ import annotations

import struct

import pytest
import trio
from sandbox.test_koko_support import ALICE  # type: ignore[import-not-found,unused-ignore]

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import TerminalLost
from jsctl_daemon.jumpserver.koko import KokoHeartbeat, KokoSettings, KokoTerminal, open_terminal
from jsctl_sandbox.koko_contract import KokoUser

from .conftest import WAIT_S, read_until
from .test_koko_local import site

# KoKo's timing scaled down: a tick every 0.4 s, a PING on a tick once 0.2 s passed quietly,
# so a served terminal is never silent for more than 0.6 s. The client allows 1.0 s.
KOKO = {"ping_tick_s": 0.4, "server_ping_after_s": 0.2}
CLIENT = KokoSettings(ping_interval=0.2, liveness=1.0)


class Relay:
    """A TCP relay to ``port``; it can eat the server's WebSocket pongs (a blocked KoKo read
    loop) or swallow everything both ways without a FIN (a cut network)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.eat_pongs = False
        self.swallowing = False
        self.pongs_eaten = 0

    async def serve(self, *, task_status: trio.TaskStatus[int]) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        task_status.started(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(self._relay, listeners)

    async def _relay(self, client: trio.SocketStream) -> None:
        server = await trio.open_tcp_stream("127.0.0.1", self.port)
        async with client, server, trio.open_nursery() as nursery:
            nursery.start_soon(self._upstream, client, server)
            nursery.start_soon(self._downstream, server, client)

    async def _upstream(self, source: trio.SocketStream, sink: trio.SocketStream) -> None:
        while data := await source.receive_some(65536):
            if not self.swallowing:
                await sink.send_all(data)

    async def _downstream(self, source: trio.SocketStream, sink: trio.SocketStream) -> None:
        buffer = b""
        upgraded = False
        while data := await source.receive_some(65536):
            if self.swallowing:
                continue
            buffer += data
            if not upgraded:  # pass the HTTP upgrade answer through as is
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                if not sep:
                    continue
                await sink.send_all(head + sep)
                buffer, upgraded = rest, True
            while (frame := _frame_length(buffer)) is not None:
                chunk, buffer = buffer[:frame], buffer[frame:]
                if self.eat_pongs and chunk[0] & 0x0F == 0xA:
                    self.pongs_eaten += 1
                    continue
                await sink.send_all(chunk)


def _frame_length(buffer: bytes) -> int | None:
    """The length of the first whole (unmasked, server-sent) WebSocket frame in ``buffer``."""
    if len(buffer) < 2:
        return None
    size, offset = buffer[1] & 0x7F, 2
    if size == 126:
        if len(buffer) < 4:
            return None
        size, offset = struct.unpack("!H", buffer[2:4])[0], 4
    elif size == 127:
        if len(buffer) < 10:
            return None
        size, offset = struct.unpack("!Q", buffer[2:10])[0], 10
    return offset + size if len(buffer) >= offset + size else None


async def drain(term: KokoTerminal) -> None:
    while True:
        await term.receive()


async def _through_relay(s, nursery: trio.Nursery) -> tuple[Relay, ServerConfig]:  # type: ignore[no-untyped-def]
    relay = Relay(int(s.config.url.rsplit(":", 1)[1]))
    return relay, ServerConfig(f"http://127.0.0.1:{await nursery.start(relay.serve)}")


def _cookie(s, user: KokoUser = ALICE) -> str:  # type: ignore[no-untyped-def]
    return str(s.cookie(user))


async def test_quiet_terminal_with_unanswered_pings_is_kept() -> None:
    # The asset reads no input for 4.5 s (KoKo's read loop would block, leaving our WebSocket
    # pings unanswered) and prints nothing: only KoKo's ticker PINGs prove it alive.
    async with site(**KOKO) as s, trio.open_nursery() as n:
        relay, config = await _through_relay(s, n)
        token = s.backend.issue_token(ALICE)
        async with open_terminal(config, _cookie(s), token, settings=CLIENT) as term:
            await read_until(term, b"$ ")
            await term.send_input(b"sleep 4.5; echo awake-$((3*3))\r")
            await read_until(term, b"sleep 4.5")
            relay.eat_pongs = True
            with trio.move_on_after(3.5):
                await drain(term)  # raises TerminalLost if judged dead
            assert relay.pongs_eaten >= 5
            await read_until(term, b"awake-9")
        n.cancel_scope.cancel()


async def test_cut_connection_is_found_after_the_liveness_window() -> None:
    async with site(**KOKO) as s, trio.open_nursery() as n:
        relay, config = await _through_relay(s, n)
        heartbeat = KokoHeartbeat(CLIENT)
        n.start_soon(heartbeat.run)
        async with (
            open_terminal(
                config, _cookie(s), s.backend.issue_token(ALICE), heartbeat=heartbeat
            ) as one,
            open_terminal(
                config, _cookie(s), s.backend.issue_token(ALICE), heartbeat=heartbeat
            ) as two,
        ):
            for term in (one, two):
                await read_until(term, b"$ ")
            with trio.move_on_after(2.0):  # quiet but served: kept by KoKo's PINGs
                async with trio.open_nursery() as readers:
                    for term in (one, two):
                        readers.start_soon(drain, term)
            relay.swallowing = True
            cut_at = trio.current_time()
            for term in (one, two):
                with pytest.raises(TerminalLost, match="sent nothing"), trio.fail_after(WAIT_S):
                    await drain(term)
            assert trio.current_time() - cut_at < CLIENT.liveness + 1.0
        n.cancel_scope.cancel()
