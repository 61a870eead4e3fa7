"""A TLS connection waiting for bytes holds no OpenSSL record buffers, and works on afterwards."""

from __future__ import annotations

import ctypes
import ssl
from typing import Any

import trio

from jsctl_daemon.jumpserver._tls_buffers import ReleasingTransport
from jsctl_sandbox.testing import SandboxInfo

_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks")
_FIELDS += ("fordblks", "keepcost")


class _MallInfo2(ctypes.Structure):
    _fields_ = [  # glibc's mallinfo2: what malloc has handed out (uordblks, hblkhd)
        (name, ctypes.c_size_t) for name in _FIELDS
    ]


def _malloc_in_use() -> int:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


async def _health(stream: trio.SSLStream[Any]) -> bytes:
    await stream.send_all(b"GET /api/health/ HTTP/1.1\r\nHost: sandbox\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
        answer += await stream.receive_some(65536)
    return answer


async def _blocked_readers(sandbox: SandboxInfo, releasing: bool) -> int:
    """Malloc in use per connection while 20 connections wait in a read, answered afterwards."""
    host, port = "127.0.0.1", int(sandbox.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=sandbox.ca_file)
    streams: list[trio.SSLStream[trio.abc.Stream]] = []
    answers: list[bytes | bytearray] = []

    async def wait_then_read(stream: trio.SSLStream[trio.abc.Stream]) -> None:
        answers.append(await stream.receive_some(65536))  # waits: nothing was asked yet
        while not answers[-1].rstrip().endswith(b"}"):
            answers[-1] += await stream.receive_some(65536)

    async with trio.open_nursery() as nursery:
        before = _malloc_in_use()
        for _ in range(20):
            tcp = await trio.open_tcp_stream(host, port)
            transport: trio.abc.Stream = ReleasingTransport(tcp) if releasing else tcp
            stream = trio.SSLStream(transport, context, server_hostname="localhost")
            await stream.do_handshake()
            if isinstance(transport, ReleasingTransport):
                transport.arm(stream)
            assert b" 200 " in await _health(stream)
            streams.append(stream)
            nursery.start_soon(wait_then_read, stream)
        await trio.sleep(0.2)
        held = (_malloc_in_use() - before) // len(streams)
        for stream in streams:  # now the waiting reads get their answers
            await stream.send_all(b"GET /api/health/ HTTP/1.1\r\nHost: sandbox\r\n\r\n")
    assert len(answers) == 20 and all(b" 200 " in answer for answer in answers)
    for stream in streams:
        await stream.aclose()
    return held


async def test_a_connection_waiting_in_a_read_holds_no_record_buffers(
    sandbox: SandboxInfo,
) -> None:
    kept = await _blocked_readers(sandbox, releasing=False)
    released = await _blocked_readers(sandbox, releasing=True)
    assert kept - released > 8 << 10, f"{kept} bytes per waiting connection, {released} released"
