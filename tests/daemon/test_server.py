"""The real daemon on a real socket: handshake, permissions, hostile clients, lifecycle."""

from __future__ import annotations

import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time

import pytest
from jsctl_testing import DaemonProcess

from jsctl_clients.rpc import DaemonClient, DaemonUnreachable
from jsctl_protocol import (
    PROTOCOL_VERSION,
    ErrorCode,
    FrameDecoder,
    RpcError,
    encode_frame,
    parse_reply,
)


def raw_exchange(daemon: DaemonProcess, payload: bytes, replies: int = 1) -> list[object]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(daemon.paths.socket))
        sock.sendall(payload)
        decoder = FrameDecoder()
        out: list[object] = []
        sock.settimeout(10)
        while len(out) < replies:
            data = sock.recv(65536)
            if not data:
                break
            decoder.feed(data)
            while (message := decoder.next_message()) is not None:
                out.append(parse_reply(message))
        return out


def hello_frame() -> bytes:
    return encode_frame({"id": 0, "method": "hello", "params": {"version": PROTOCOL_VERSION}})


def test_socket_and_directory_are_private(daemon: DaemonProcess) -> None:
    sock_mode = stat.S_IMODE(daemon.paths.socket.stat().st_mode)
    dir_mode = stat.S_IMODE(daemon.paths.runtime_dir.stat().st_mode)
    assert sock_mode == 0o600
    assert dir_mode == 0o700
    assert stat.S_IMODE(daemon.paths.log_file.stat().st_mode) == 0o600


def test_hello_ping_status(daemon: DaemonProcess) -> None:
    with daemon.client() as client:
        assert client.hello["identity"] == {"kind": "human", "name": "human"}
        assert client.call("ping")["pong"] is True
        status = client.call("daemon.status")
        assert status["pid"] == daemon.process.pid  # type: ignore[union-attr]
        assert status["clients"] >= 1
        assert status["rss_bytes"] > 1_000_000


def test_version_mismatch_says_restart(daemon: DaemonProcess) -> None:
    frame = encode_frame({"id": 1, "method": "hello", "params": {"version": PROTOCOL_VERSION + 1}})
    (reply,) = raw_exchange(daemon, frame)
    assert reply.error.code == ErrorCode.VERSION_MISMATCH  # type: ignore[attr-defined]
    assert "jsctl daemon restart" in reply.error.message  # type: ignore[attr-defined]


def test_hello_required_and_unknown_method(daemon: DaemonProcess) -> None:
    (reply,) = raw_exchange(daemon, encode_frame({"id": 1, "method": "ping"}))
    assert reply.error.code == ErrorCode.HELLO_REQUIRED  # type: ignore[attr-defined]
    with daemon.client() as client:
        with pytest.raises(RpcError, match="did you mean `ping`") as info:
            client.call("pingg")
        assert info.value.code == ErrorCode.UNKNOWN_METHOD
        with pytest.raises(RpcError, match="must be str") as info:
            client.call("session.get", session=42)
        assert info.value.code == ErrorCode.BAD_PARAMS


def test_garbage_and_bad_shapes_get_errors_and_the_connection_survives(
    daemon: DaemonProcess,
) -> None:
    garbage_body = b"\xc1\xc1\xc1"
    payload = (
        hello_frame()
        + struct.pack(">I", len(garbage_body))
        + garbage_body
        + encode_frame({"no": "id"})
        + encode_frame({"id": 7, "method": 5})
        + encode_frame({"id": 8, "method": "ping", "params": [1]})
        + encode_frame({"id": 9, "method": "ping"})
    )
    replies = raw_exchange(daemon, payload, replies=6)
    codes = [getattr(r, "error", None) and r.error.code for r in replies]  # type: ignore[attr-defined]
    assert codes[1:5] == [
        ErrorCode.BAD_FRAME,
        ErrorCode.BAD_REQUEST,
        ErrorCode.BAD_REQUEST,
        ErrorCode.BAD_REQUEST,
    ]
    assert replies[5].result["pong"] is True  # type: ignore[attr-defined]


def test_oversize_frame_is_refused_and_daemon_keeps_serving(daemon: DaemonProcess) -> None:
    (reply,) = raw_exchange(daemon, hello_frame()[:0] + struct.pack(">I", 64 * 1024 * 1024))
    assert reply.error.code == ErrorCode.BAD_FRAME  # type: ignore[attr-defined]
    with daemon.client() as client:
        assert client.call("ping")["pong"]


def test_many_connections_opened_and_dropped(daemon: DaemonProcess) -> None:
    frame = hello_frame()
    for index in range(10_000):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(daemon.paths.socket))
            if index % 3 == 0:
                sock.sendall(frame[: index % len(frame)])  # half frames, then gone
    with daemon.client() as client:
        assert client.call("ping")["pong"]
        assert client.call("daemon.status")["clients"] <= 5


def test_slow_reader_does_not_block_others(daemon: DaemonProcess) -> None:
    slow = socket.socket(socket.AF_UNIX)
    slow.connect(str(daemon.paths.socket))
    slow.sendall(hello_frame())
    ping = encode_frame({"id": 1, "method": "daemon.status"})
    slow.setblocking(False)
    sent = 0
    try:
        for _ in range(100_000):  # pile up replies it never reads
            slow.send(ping)
            sent += 1
    except BlockingIOError:
        pass
    try:
        with daemon.client() as client:
            assert client.call("ping")["pong"]
    finally:
        slow.close()
    assert sent > 0


def test_other_uid_is_refused(daemon: DaemonProcess) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to impersonate another uid")
    os.chmod(daemon.home, 0o711)  # let the other uid reach the socket: only the uid check remains
    os.chmod(daemon.paths.runtime_dir, 0o711)
    os.chmod(daemon.paths.socket, 0o666)
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.setgid(65534)
        os.setuid(65534)
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                for attempt in range(5):  # a loaded machine may refuse for a moment
                    try:
                        sock.connect(str(daemon.paths.socket))
                        break
                    except (BlockingIOError, ConnectionRefusedError):
                        time.sleep(0.5 * (attempt + 1))
                sock.sendall(hello_frame())
                sock.settimeout(60)  # a loaded machine may be slow; the refusal must still come
                os._exit(0 if sock.recv(100) == b"" else 1)
        except (ConnectionResetError, BrokenPipeError):
            os._exit(0)  # closed on us, before or after the hello went out: refused
        except OSError:
            os._exit(2)  # could not even connect: the test would prove nothing
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "refused connection" in daemon.log_text()


def test_one_daemon_per_socket(daemon: DaemonProcess) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "jsctl_daemon"],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 1
    assert "already serves this socket" in second.stderr
    with daemon.client() as client:
        assert client.call("ping")["pong"]


def test_kill_9_then_start_again(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait()
    assert daemon.paths.socket.exists()  # stale
    with pytest.raises(DaemonUnreachable):
        DaemonClient.connect(daemon.paths, autostart=False)
    daemon.start()
    with daemon.client() as client:
        assert client.call("ping")["pong"]


def test_sigterm_is_a_clean_stop(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(timeout=15) == 0
    assert not daemon.paths.socket.exists()
    assert "stopped" in daemon.log_text()


def test_socket_activation_adopts_the_listening_socket() -> None:
    """Started as systemd would: a listening socket on fd 3 with LISTEN_FDS/LISTEN_PID."""
    from jsctl_testing import short_tempdir

    home = short_tempdir()
    env = dict(os.environ, JSCTL_HOME=str(home))
    sock_path = home / "run" / "jsctl.sock"
    sock_path.parent.mkdir(mode=0o700, parents=True)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(sock_path))
    listener.listen(8)
    code = (
        "import os,sys,runpy; os.dup2(int(sys.argv[1]), 3); "
        "os.environ['LISTEN_FDS']='1'; os.environ['LISTEN_PID']=str(os.getpid()); "
        "sys.argv=['jsctl_daemon']; runpy.run_module('jsctl_daemon', run_name='__main__')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(listener.fileno())], env=env, pass_fds=[listener.fileno()]
    )
    listener.close()  # only the daemon holds it now
    try:
        paths = DaemonProcess(home, env).paths
        deadline = time.monotonic() + 15
        while True:
            try:
                client = DaemonClient.connect(paths, autostart=False)
                break
            except DaemonUnreachable:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        with client:
            assert client.call("ping")["pong"]
            assert "adopted listening socket from systemd" in paths.log_file.read_text()
    finally:
        process.terminate()
        process.wait(timeout=15)
