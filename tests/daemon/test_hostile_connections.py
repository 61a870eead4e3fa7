"""Clients that misbehave at the socket level never take the daemon down or hold it hostage."""

from __future__ import annotations

import os
import socket
import struct
import time

import msgpack
from hostile import (
    HEADER,
    assert_alive,
    configured_daemon,
    exchange,
    frame,
    hello_frame,
    raw_connect,
    reset_close,
)
from jsctl_testing import DaemonProcess

from jsctl_protocol import METHODS


def test_requests_then_resets_before_the_reply_never_end_the_daemon(
    daemon: DaemonProcess,
) -> None:
    """The reset surfaces in the connection's read inside an exception group; once it killed
    the daemon. Every method, reset at several moments."""
    assert daemon.process is not None
    pid = daemon.process.pid
    watcher = daemon.client()  # a bystander connection that must see nothing of it
    methods = [m for m in METHODS if m != "daemon.shutdown"]
    for round_ in range(3):
        for method in methods:
            sock = raw_connect(daemon)
            sock.sendall(hello_frame() + frame({"id": 2, "method": method, "params": {}}))
            if round_:
                time.sleep(0.002 * round_)  # after the reply was written, before it was read
            reset_close(sock)
    assert_alive(daemon, pid)
    assert watcher.call("ping")["pong"] is True
    watcher.close()
    assert "Traceback" not in daemon.log_text()


def test_eof_mid_frame_and_garbage_end_only_that_connection(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    pid = daemon.process.pid
    hostile: list[bytes] = [
        HEADER.pack(100) + b"\x81",  # half a frame, then EOF
        b"\x00\x00",  # half a header
        HEADER.pack(5) + b"\xc1\xc1\xc1\xc1\xc1",  # never-used msgpack bytes
        HEADER.pack(1) + b"\x07",  # a frame that is not a map
        frame({"id": [1], "method": "ping"}),
        frame({"id": 1, "method": 7}),
        frame({"id": 1, "method": "ping", "params": [1, 2]}),
        HEADER.pack(0xFFFFFFFF),  # a length over the cap
        os.urandom(4096),
    ]
    for payload in hostile:
        for close in (socket.socket.close, reset_close):
            sock = raw_connect(daemon)
            sock.sendall(payload)
            close(sock)
            sock = raw_connect(daemon)
            sock.sendall(hello_frame() + payload)
            exchange(sock, 99, 0.05)
            close(sock)
    assert_alive(daemon, pid)


def test_half_frames_are_bounded_across_connections() -> None:
    """Forty connections each sending half of a 16 MiB frame: the daemon holds at most its
    budget (8 MiB here) and cuts off the connections beyond it, then forgets it all."""
    with configured_daemon("max_partial_frame_bytes = 8388608\n") as daemon:
        assert daemon.process is not None
        pid = daemon.process.pid
        with daemon.client() as client:
            rss_before = client.call("daemon.status")["rss_bytes"]
        half = b"\x00" * (1 << 20)
        socks = []
        cut_off = 0
        for _ in range(40):
            sock = raw_connect(daemon)
            sock.sendall(hello_frame() + HEADER.pack(16 * 1024 * 1024 - 1))
            try:
                for _ in range(8):
                    sock.sendall(half)
            except (BrokenPipeError, ConnectionResetError):
                cut_off += 1
            socks.append(sock)
        with daemon.client() as client:
            rss_during = client.call("daemon.status")["rss_bytes"]
        for sock in socks:
            reset_close(sock)
        assert_alive(daemon, pid)
        # 8 MiB of budget, read chunks and allocator slack; forty held frames were 320+ MiB.
        assert rss_during - rss_before < 48 << 20, (rss_before, rss_during)
        assert daemon.log_text().count("frame budget exceeded") >= 30 or cut_off >= 30


def test_connections_beyond_the_limit_are_turned_away_with_a_reason() -> None:
    with configured_daemon("max_connections = 8\n") as daemon:
        assert daemon.process is not None
        held = [raw_connect(daemon) for _ in range(8)]
        for sock in held:
            sock.sendall(hello_frame())
            assert exchange(sock, 1, 5) is not None
        extra = raw_connect(daemon)  # told at once, before it says anything
        extra.settimeout(5)
        data = extra.recv(65536)
        message = msgpack.unpackb(data[4:])
        assert message["error"]["code"] == "limit"
        assert "max_connections" in message["error"]["message"]
        for sock in held:
            sock.close()
        extra.close()
        deadline = time.monotonic() + 10  # the daemon notices the closes in its own time
        while "connections" in str(_try_status(daemon)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert_alive(daemon, daemon.process.pid)


def _try_status(daemon: DaemonProcess) -> object:
    try:
        with daemon.client() as client:
            return client.call("daemon.status")
    except Exception as exc:  # refused while the old connections are still counted
        return exc


def test_a_peer_that_stops_reading_is_cut_off_and_nothing_else_waits() -> None:
    """A client that follows a stream but never reads: the daemon's send to it stalls, it is
    cut off after client_send_timeout, and a bystander is answered all along."""
    with configured_daemon("client_send_timeout = 2.0\n") as daemon:
        assert daemon.process is not None
        pid = daemon.process.pid
        greedy = raw_connect(daemon)
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.sendall(hello_frame())
        assert exchange(greedy, 1, 5) is not None
        # Many in-order calls whose replies nobody reads fill the socket buffers.
        request = frame({"id": 3, "method": "method.nope" + "x" * 60, "params": {}})
        with daemon.client() as bystander:
            started = time.monotonic()
            sent = 0
            greedy.setblocking(False)
            while time.monotonic() - started < 8:
                try:
                    greedy.send(request * 64)
                    sent += 64
                except BlockingIOError:
                    time.sleep(0.05)
                except (BrokenPipeError, ConnectionResetError):
                    break
                assert bystander.call("ping")["pong"] is True
            else:
                raise AssertionError("the stalled connection was never cut off")
        assert sent > 0
        assert "cut off" in daemon.log_text()
        greedy.close()
        assert_alive(daemon, pid)


def test_a_peer_of_another_uid_is_refused_before_a_byte_is_read(daemon: DaemonProcess) -> None:
    """ssh-agent's rule. The directory and socket are opened up on purpose so that another
    user can reach the socket at all; the daemon itself must still refuse the peer."""
    if os.getuid() != 0:
        return  # only root can become another user to try it
    daemon.home.chmod(0o711)
    daemon.paths.runtime_dir.chmod(0o711)
    daemon.paths.socket.chmod(0o666)
    pid = os.fork()
    if pid == 0:  # the child becomes nobody and tries to talk
        try:
            os.setuid(65534)
            sock = raw_connect(daemon)
        except BaseException:
            os._exit(2)  # could not even connect: the test would prove nothing
        try:
            sock.settimeout(5)
            sock.sendall(hello_frame())
            os._exit(0 if sock.recv(100) == b"" else 1)
        except (BrokenPipeError, ConnectionResetError):
            os._exit(0)
        except BaseException:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "refused connection" in daemon.log_text()
    assert daemon.process is not None
    assert_alive(daemon, daemon.process.pid)


def test_reply_frames_are_well_formed_after_hostile_neighbours(daemon: DaemonProcess) -> None:
    """Interleaved hostile and honest connections: the honest one's replies stay in order."""
    honest = raw_connect(daemon)
    honest.sendall(hello_frame())
    assert exchange(honest, 1, 5) is not None
    for index in range(50):
        bad = raw_connect(daemon)
        bad.sendall(hello_frame() + HEADER.pack(1 << 20) + b"x" * 1000)
        reset_close(bad)
        honest.sendall(frame({"id": 10 + index, "method": "ping", "params": {}}))
        reply = exchange(honest, 10 + index, 5)
        assert reply is not None and reply["result"]["pong"] is True
    honest.close()
    assert struct.calcsize(">I") == 4
