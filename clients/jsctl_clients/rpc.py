"""A blocking client for the daemon's socket: connect (starting the daemon if needed), call, stream.

Standard library + jsctl_protocol only, so a `jsctl` call costs little more than Python itself.
"""

from __future__ import annotations

# The C socket type, not socket.py: that module (with selectors and array) costs every `jsctl`
# call ~2 ms, and a Unix socket needs none of what it adds.
import _socket
import os
import sys
import time

from jsctl_paths import Paths
from jsctl_protocol import ErrorReply, ProtocolError, Result, RpcError, StreamPush
from jsctl_protocol._connection import ClientConnection

TYPE_CHECKING = False  # typing is not imported at run time: completion pays for every import
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from jsctl_protocol import RequestId

CLIENT_NAME = "jsctl-cli/0.1.0"
START_TIMEOUT_S = 15.0


class DaemonUnreachable(Exception):
    """The daemon is not running (or not answering) and could not be started."""


class DaemonClient:
    """One connection to the daemon, after a successful `hello`."""

    def __init__(self, sock: _socket.socket) -> None:
        self._sock = sock
        self._conn = ClientConnection()  # the conversation's rules; this class moves bytes

    @property
    def hello(self) -> dict[str, Any]:
        """The daemon's answer to hello (protocol, version, pid, who we are)."""
        return self._conn.hello

    @classmethod
    def connect(
        cls,
        paths: Paths | None = None,
        *,
        autostart: bool = True,
        token: str | None = None,
        client_name: str = CLIENT_NAME,
    ) -> DaemonClient:
        """Connect and say hello; start the daemon first if it is not running and allowed."""
        paths = paths or Paths.from_env()
        try:
            sock = _open_socket(paths.socket_name)
        except OSError as exc:
            if not autostart:
                raise DaemonUnreachable(
                    f"the jsctl daemon is not running ({paths.socket_name}: {exc.strerror}); "
                    "start it with `jsctl daemon start`"
                ) from None
            sock = start_daemon(paths)
        client = cls(sock)
        _ = CallStream(client, client.say_hello(client_name, token)).result  # raises a refusal
        return client

    def close(self) -> None:
        """Close the connection (the daemon keeps everything it owns)."""
        self._sock.close()

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(self, method: str, **params: Any) -> Any:
        """Call ``method`` and return its result; RpcError on an error reply."""
        stream = self.stream(method, **params)
        for _ in stream:
            pass
        return stream.result

    def stream(self, method: str, **params: Any) -> CallStream:
        """Call ``method``; iterate the returned object for pushed items, then read ``result``."""
        request_id, frame = self._conn.send_request(method, params)
        self._write(frame)
        return CallStream(self, request_id)

    def say_hello(self, client_name: str = CLIENT_NAME, token: str | None = None) -> RequestId:
        """Send the handshake; its id, for a CallStream whose result is the daemon's answer."""
        request_id, frame = self._conn.send_hello(client_name, token)
        self._write(frame)
        return request_id

    def send_request(self, request_id: RequestId, method: str, params: dict[str, Any]) -> None:
        """Write one request frame (thread-safe enough for one writer beside one reader)."""
        self._write(self._conn.send_request(method, params, request_id)[1])

    def _write(self, frame: bytes) -> None:
        try:
            self._sock.sendall(frame)
        except OSError as exc:
            raise DaemonUnreachable(f"lost the connection to the daemon: {exc}") from None

    def next_id(self) -> int:
        """A fresh request id."""
        return self._conn.next_id()

    def read_reply(self) -> Result | ErrorReply | StreamPush:
        """Block until the next reply to a call in flight arrives."""
        while True:
            reply = self._conn.next_event()
            if reply is not None:
                return reply
            try:
                data = self._sock.recv(256 * 1024)
            except OSError as exc:
                raise DaemonUnreachable(f"lost the connection to the daemon: {exc}") from None
            if not data:
                raise DaemonUnreachable(
                    "the daemon closed the connection (did it stop? see `jsctl daemon status`)"
                )
            self._conn.receive_data(data)


class CallStream:
    """The pushed items of one call, then its final result (or its RpcError)."""

    def __init__(self, client: DaemonClient, request_id: RequestId) -> None:
        self._client = client
        self._id = request_id
        self._result: Any = None
        self._done = False

    def __iter__(self) -> Iterator[Any]:
        while not self._done:
            reply = self._client.read_reply()
            if reply.id != self._id and reply.id is not None:
                continue  # a late answer to an abandoned call on this connection
            if isinstance(reply, StreamPush):
                yield reply.data
            elif isinstance(reply, ErrorReply):
                self._done = True
                raise reply.error
            else:
                self._done = True
                self._result = reply.result

    @property
    def result(self) -> Any:
        """The final result (iterate first)."""
        if not self._done:
            for _ in self:
                pass
        return self._result


def _open_socket(path: os.PathLike[str] | str) -> _socket.socket:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        raise
    return sock


def start_daemon(paths: Paths, timeout: float = START_TIMEOUT_S) -> _socket.socket:
    """Start the daemon detached (logging to its file) and return a connected socket."""
    import subprocess

    paths.log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    startup_log = paths.log_dir / "daemon-start.log"
    with open(startup_log, "ab", buffering=0) as stderr:
        os.chmod(startup_log, 0o600)
        process = subprocess.Popen(
            [sys.executable, "-m", "jsctl_daemon", "--socket", str(paths.socket)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # survives the terminal and this process
            close_fds=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return _open_socket(paths.socket)
        except OSError:
            pass
        if process.poll() is not None:
            try:
                return _open_socket(paths.socket)  # lost a race to another starter: fine
            except OSError:
                tail = startup_log.read_text(errors="replace").strip().splitlines()[-1:]
                why = tail[0] if tail else f"exit status {process.returncode}"
                raise DaemonUnreachable(f"the jsctl daemon failed to start: {why}") from None
        time.sleep(0.01)
    raise DaemonUnreachable(
        f"the jsctl daemon did not open {paths.socket} within {timeout:.0f} s; see {paths.log_file}"
    )


__all__ = ["CallStream", "DaemonClient", "DaemonUnreachable", "ProtocolError", "RpcError"]
