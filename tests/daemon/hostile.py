"""Support for attacking the real daemon: raw connections, hostile frames, config'd daemons."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from typing import Any

import msgpack
from jsctl_testing import DaemonProcess

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
