"""Support for attacking the real daemon: raw connections, hostile frames, config'd daemons."""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import time
from typing import Any

import msgpack
from jsctl_testing import DaemonProcess

from jsctl_clients.rpc import DaemonClient
from jsctl_protocol import PROTOCOL_VERSION, FrameDecoder

HEADER = struct.Struct(">I")


def frame(message: dict[str, Any]) -> bytes:
    body = msgpack.packb(message, use_bin_type=True)
    return HEADER.pack(len(body)) + body


def hello_frame(request_id: int = 1, **extra: Any) -> bytes:
    return frame(
        {"id": request_id, "method": "hello", "params": {"version": PROTOCOL_VERSION, **extra}}
    )


def raw_connect(daemon: DaemonProcess) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(daemon.paths.socket))
    return sock


def reset_close(sock: socket.socket) -> None:
    """Close so the daemon sees a reset, not an orderly EOF (unread data, linger 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def exchange(sock: socket.socket, request_id: int, timeout: float) -> dict[str, Any] | None:
    """Frames until the reply to ``request_id`` (pushes skipped); None if none in time."""
    decoder = FrameDecoder()
    sock.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(1 << 16)
        except TimeoutError:
            continue
        if not data:
            return None
        decoder.feed(data)
        while (message := decoder.next_message()) is not None:
            if message.get("id") == request_id and "stream" not in message:
                return message
    return None


def call_raw(
    daemon: DaemonProcess, method: str, params: Any, timeout: float = 5.0, token: str | None = None
) -> dict[str, Any] | None:
    """One hostile call on a fresh connection after hello; the reply map, or None if the call
    was still running after ``timeout`` (a streaming or waiting call; it is then dropped)."""
    with contextlib.closing(raw_connect(daemon)) as sock:
        extra = {"token": token} if token else {}
        sock.sendall(hello_frame(**extra))
        greeting = exchange(sock, 1, 10)
        assert greeting is not None and "result" in greeting, greeting
        sock.sendall(frame({"id": 2, "method": method, "params": params}))
        return exchange(sock, 2, timeout)


def assert_alive(daemon: DaemonProcess, pid: int) -> None:
    """The same daemon process still serves a fresh client."""
    assert daemon.process is not None and daemon.process.poll() is None, "the daemon died"
    with daemon.client() as client:
        assert client.call("daemon.status")["pid"] == pid


def configured_daemon(config: str) -> contextlib.AbstractContextManager[DaemonProcess]:
    """A daemon whose config.toml says ``config`` (under [daemon])."""
    return DaemonProcess.started(config="[daemon]\n" + config)


NUMBERED_LINE = re.compile(rb"n(\d{7})\r?\n")


def start_numbered_lines(client: DaemonClient) -> tuple[str, int]:
    """A bystander: a session on web-01 printing numbered lines (n0000001, ...) every 2 ms for
    as long as it lives; (its id, the offset its output starts at)."""
    session = client.call("session.open", asset="web-01", name="numbers")["session"]
    client.call(
        "session.write",
        session=session["id"],
        data="i=0; while :; do i=$((i+1)); printf 'n%07d\\n' $i; sleep 0.002; done\r",
    )
    return str(session["id"]), int(session["end_offset"])


def numbered_lines(data: bytes) -> list[int]:
    """The numbers of the bystander's lines in ``data``, in order."""
    return [int(n) for n in NUMBERED_LINE.findall(data)]
