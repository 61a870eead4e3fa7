"""Test support: run the real daemon and the real `jsctl` CLI as processes."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsctl_clients.rpc import DaemonClient
from jsctl_paths import Paths

JSCTL = [sys.executable, "-m", "jsctl_clients"]


def in_a_terminal(env: dict[str, str], *args: str) -> tuple[int, int]:
    """Start `jsctl ARGS` on a fresh 100x30 pseudo-terminal; (pid, fd of the terminal)."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [*JSCTL, *args], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    return pid, fd


def drain_pty(fd: int, seconds: float, until: bytes = b"") -> bytes:
    """What a terminal shows within ``seconds`` (sooner once ``until`` appears, or at its end)."""
    import select

    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not (until and until in out):
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def detach_and_close(pid: int, fd: int) -> bytes:
    """Press Ctrl-] d, read until the CLI exits, close the terminal; it must have exited 0."""
    os.write(fd, b"\x1dd")
    try:
        out = drain_pty(fd, 10.0)  # returns once the CLI exited and the terminal closed
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    return out


def kill_mid_stream(env: dict[str, str], *args: str, first_read: int = 64) -> bytes:
    """Start `jsctl ARGS` with a terminal on stdin (attach wants one) and its output in a pipe,
    wait until output flows (the first read returns), then kill -9 it; what it printed."""
    import pty

    terminal, its_end = pty.openpty()
    process = subprocess.Popen(
        [*JSCTL, *args], env=env, stdin=its_end, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    os.close(its_end)
    assert process.stdout is not None
    try:
        printed = process.stdout.read(first_read)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        os.close(terminal)
    return printed


def short_tempdir(prefix: str = "js") -> Path:
    """A short temp dir (Unix socket paths are limited to ~100 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@dataclass
class DaemonProcess:
    """A daemon started with its own JSCTL_HOME; env/paths let CLI runs find it."""

    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> Paths:
        return Paths.from_env(self.env)

    @classmethod
    @contextlib.contextmanager
    def started(cls, config: str | None = None, **env_overrides: str) -> Iterator[DaemonProcess]:
        """A daemon in a fresh JSCTL_HOME; ``config`` is the text of its config.toml."""
        home = short_tempdir()
        env = dict(os.environ, JSCTL_HOME=str(home), **env_overrides)
        env.pop("_JSCTL_COMPLETE", None)
        daemon = cls(home, env)
        if config is not None:
            daemon.write_config(config)
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()
            shutil.rmtree(home, ignore_errors=True)

    def write_config(self, config: str) -> None:
        """Write the text of the daemon's config.toml (read when it starts)."""
        self.paths.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.paths.config_file.write_text(config)

    def restart_with_config(self, config: str) -> None:
        """Stop the daemon, write ``config`` as its config.toml and start it again."""
        self.write_config(config)
        self.stop()
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jsctl_daemon"], env=self.env, stdin=subprocess.DEVNULL
        )
        self.wait_for_socket()

    def start_failing(self) -> subprocess.CompletedProcess[str]:
        """Run a daemon expected to refuse to start; its exit status and stderr."""
        return subprocess.run(
            [sys.executable, "-m", "jsctl_daemon"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def wait_for_socket(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as probe:
                probe.connect(str(self.paths.socket))
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}")
            time.sleep(0.02)
        raise TimeoutError("daemon socket did not appear")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def client(self, **kwargs: Any) -> DaemonClient:
        return DaemonClient.connect(self.paths, autostart=False, **kwargs)

    def cli(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `jsctl` CLI against this daemon."""
        # No input: an empty one (exec passes piped input on, as ssh does).
        return subprocess.run(
            [*JSCTL, *args],
            env={**self.env, **(env or {})},
            input=input or "",
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    def log_text(self) -> str:
        return self.paths.log_file.read_text() if self.paths.log_file.exists() else ""


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away before its answer (a cancelled request): expected


@contextlib.contextmanager
def local_http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A plain-HTTP server on loopback answering with ``handler`` (its own thread); its URL.

    Request logging is off and clients that hang up early are no error."""

    class Quiet(handler):  # type: ignore[valid-type,misc]
        def log_message(self, *args: Any) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
