"""RPC latency/throughput and `jsctl ping` start-up, each against a baseline in the same run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from benchlib import (
    JSCTL_SCRIPT,
    default_env,
    interleaved,
    median_ms,
    percentile,
    report,
    time_calls,
)
from jsctl_testing import DaemonProcess

from jsctl_protocol import FrameDecoder, encode_frame

pytestmark = pytest.mark.bench

ECHO_SERVER = textwrap.dedent(
    """
    import socket, struct, sys
    server = socket.socket(socket.AF_UNIX)
    server.bind(sys.argv[1]); server.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            buffer = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buffer += data
                while len(buffer) >= 4:
                    (n,) = struct.unpack(">I", buffer[:4])
                    if len(buffer) < 4 + n:
                        break
                    conn.sendall(buffer[: 4 + n]); buffer = buffer[4 + n :]
    """
)


TRIO_ECHO_SERVER = textwrap.dedent(
    """
    import struct, sys, trio
    async def handle(stream):
        buffer = b""
        async for data in stream:
            buffer += data
            while len(buffer) >= 4:
                (n,) = struct.unpack(">I", buffer[:4])
                if len(buffer) < 4 + n:
                    break
                await stream.send_all(buffer[: 4 + n]); buffer = buffer[4 + n :]
    async def main():
        sock = trio.socket.socket(trio.socket.AF_UNIX)
        await sock.bind(sys.argv[1]); sock.listen(16)
        print("ready", flush=True)
        await trio.serve_listeners(handle, [trio.SocketListener(sock)])
    trio.run(main)
    """
)


def _start_echo(program: str) -> tuple[subprocess.Popen[bytes], Path]:
    path = Path(tempfile.mkdtemp(prefix="jsb", dir="/tmp")) / "echo.sock"
    process = subprocess.Popen([sys.executable, "-c", program, str(path)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()
    return process, path


@pytest.fixture
def trio_echo_socket() -> Iterator[Path]:
    process, path = _start_echo(TRIO_ECHO_SERVER)
    yield path
    process.kill()
    process.wait()


@pytest.fixture
def echo_socket() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="jsb", dir="/tmp")) / "echo.sock"
    process = subprocess.Popen(
        [sys.executable, "-c", ECHO_SERVER, str(path)], stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.readline()
    yield path
    process.kill()
    process.wait()


def _pinger(path: Path) -> tuple[socket.socket, Callable[[], None]]:
    frame = encode_frame({"id": 1, "method": "ping", "params": {}})
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(str(path))
    decoder = FrameDecoder()

    def raw_ping() -> None:
        raw.sendall(frame)
        while decoder.next_message() is None:
            decoder.feed(raw.recv(65536))

    return raw, raw_ping


def test_rpc_ping_latency_against_raw_socket(echo_socket: Path, trio_echo_socket: Path) -> None:
    raw, raw_ping = _pinger(echo_socket)
    trio_raw, trio_ping = _pinger(trio_echo_socket)

    with DaemonProcess.started() as daemon, daemon.client() as client:
        count = 3000
        raw_samples, trio_samples, rpc_samples = [], [], []
        for _ in range(2):  # interleaved rounds: machine noise is shared fairly
            raw_samples += time_calls(raw_ping, count)
            trio_samples += time_calls(trio_ping, count)
            rpc_samples += time_calls(lambda: client.call("ping"), count)
    raw.close()
    trio_raw.close()
    rows = {
        "raw unix-socket echo p50": percentile(raw_samples, 0.5) * 1e6,
        "trio echo (event-loop floor) p50": percentile(trio_samples, 0.5) * 1e6,
        "jsctl RPC ping p50": percentile(rpc_samples, 0.5) * 1e6,
        "raw unix-socket echo p99": percentile(raw_samples, 0.99) * 1e6,
        "jsctl RPC ping p99": percentile(rpc_samples, 0.99) * 1e6,
    }
    report("RPC ping latency (us)", rows, "us", baseline="raw unix-socket echo p50", target=1.3)
    assert rows["jsctl RPC ping p50"] > 0


CLIENT_LOOP = textwrap.dedent(
    """
    import sys, time
    from jsctl_clients.rpc import DaemonClient
    from jsctl_paths import Paths
    client = DaemonClient.connect(Paths.from_env(), autostart=False)
    n = int(sys.argv[1])
    for _ in range(n):
        client.call("ping")
    """
)


@pytest.mark.parametrize("clients", [1, 8])
def test_rpc_throughput(clients: int) -> None:
    calls_each = 4000 // clients
    with DaemonProcess.started() as daemon:
        started = time.perf_counter()
        processes = [
            subprocess.Popen([sys.executable, "-c", CLIENT_LOOP, str(calls_each)], env=daemon.env)
            for _ in range(clients)
        ]
        for process in processes:
            assert process.wait() == 0
        elapsed = time.perf_counter() - started
    total = calls_each * clients
    report(f"RPC throughput, {clients} client process(es)", {"calls/s": total / elapsed}, "/s")


def test_jsctl_ping_process_against_click_import_floor() -> None:
    with DaemonProcess.started() as daemon:
        env = default_env(daemon.paths.socket)  # as a user runs it: no JSCTL_* overrides
        samples = interleaved(
            {
                "python -c 'import click, msgpack'": [
                    sys.executable,
                    "-c",
                    "import click, msgpack",
                ],
                "jsctl ping": [JSCTL_SCRIPT, "ping"],
                "python -c pass (interpreter)": [sys.executable, "-c", "pass"],
            },
            env,
            runs=int(os.environ.get("JSCTL_BENCH_RUNS", "30")),
        )
    rows = {name: median_ms(values) for name, values in samples.items()}
    report(
        "whole-process wall time, median (ms)",
        rows,
        baseline="python -c 'import click, msgpack'",
        target=1.2,
    )
    assert rows["jsctl ping"] > 0
