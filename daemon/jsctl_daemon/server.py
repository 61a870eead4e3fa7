"""The daemon: owns the listening socket, the domains, and every connection's lifetime."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

import trio

from jsctl_protocol import ErrorCode, Method, Permission, RpcError
from jsctl_protocol.paths import Paths

from . import __version__
from ._connection import ClientConnection
from ._listen import acquire_lock, bind_socket, ensure_private_dir, inherited_socket, peer_uid
from .auth import AuthDomain
from .config import Config, load_config
from .rpc import Connection, Identity

log = logging.getLogger(__name__)


@dataclass
class DaemonConfig:
    """How this daemon instance runs."""

    paths: Paths
    idle_exit_s: float | None = None  # exit after this long with no clients and no sessions


class Daemon:
    """The per-user daemon and its domains."""

    def __init__(self, config: DaemonConfig, settings: Config | None = None) -> None:
        self.config = config
        self.paths = config.paths
        self.settings = settings or load_config(config.paths.config_file)
        self.auth = AuthDomain(config.paths.state_dir, self.settings)
        self.started_at = time.time()
        self.connections: dict[int, Connection] = {}
        self._numbers = itertools.count(1)
        self._shutdown = trio.Event()
        self._uid = os.getuid()

    # --- policy hook (the policy domain refines this)
    def authorize(self, identity: Identity, method: Method) -> None:
        """Raise FORBIDDEN unless ``identity`` may call ``method``."""
        if identity.is_human or method.permission in (
            Permission.PUBLIC,
            Permission.READ,
            Permission.USE,
        ):
            return
        raise RpcError(
            ErrorCode.FORBIDDEN,
            f"`{method.name}` is for the person's own jsctl, "
            f"not for agent client `{identity.name}`",
        )

    def identify_token(self, token: str) -> Identity:
        """The agent identity a client token stands for (the policy domain refines this)."""
        raise RpcError(ErrorCode.UNAUTHORIZED, "this client token is not known to the daemon")

    def request_shutdown(self) -> None:
        """Ask the daemon to stop (after the current reply is sent)."""
        self._shutdown.set()

    def status(self) -> dict[str, Any]:
        """Figures for `daemon.status`."""
        return {
            "pid": os.getpid(),
            "version": __version__,
            "uptime_s": round(time.time() - self.started_at, 3),
            "rss_bytes": _rss_bytes(),
            "clients": len(self.connections),
            "socket": str(self.paths.socket),
            "log_file": str(self.paths.log_file),
        }

    async def serve(self, listener_socket: socket.socket) -> None:
        """Accept connections until shutdown is requested or a signal arrives."""
        listener = trio.SocketListener(trio.socket.from_stdlib_socket(listener_socket))
        self.auth.load()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._watch_signals, nursery.cancel_scope)
                nursery.start_soon(trio.serve_listeners, self._handle, [listener])
                nursery.start_soon(self.auth.keepalive_forever)
                await self._shutdown.wait()
                log.info("shutting down")
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await self.auth.aclose()

    async def _watch_signals(self, scope: trio.CancelScope) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
            async for signum in signals:
                log.info("received %s", signal.Signals(signum).name)
                self._shutdown.set()
                return

    async def _handle(self, stream: trio.SocketStream) -> None:
        number = next(self._numbers)
        uid = peer_uid(stream.socket)  # type: ignore[arg-type]
        if uid is not None and uid != self._uid:
            log.warning("refused connection %d from uid %d", number, uid)
            await stream.aclose()
            return
        state = Connection(number, uid)
        self.connections[number] = state
        try:
            await ClientConnection(self, stream, state).serve()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            del self.connections[number]
            with trio.CancelScope(shield=True):
                await self.auth.cancel_logins_of(number)
                await stream.aclose()


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) if os.uname().sysname == "Darwin" else int(peak) * 1024


async def run_daemon(config: DaemonConfig) -> None:
    """Take the lock, listen (or adopt a socket), serve, and clean up."""
    paths = config.paths
    ensure_private_dir(paths.runtime_dir)
    ensure_private_dir(paths.state_dir)
    lock_fd = acquire_lock(paths.lock_file)
    adopted = inherited_socket()
    sock = adopted or bind_socket(paths.socket)
    daemon = Daemon(config)
    from . import handlers

    handlers.load()
    log.info("jsctl daemon %s listening on %s (pid %d)", __version__, paths.socket, os.getpid())
    try:
        await daemon.serve(sock)
    finally:
        sock.close()
        if adopted is None:
            with contextlib.suppress(FileNotFoundError):
                paths.socket.unlink()
        os.close(lock_fd)
        log.info("stopped")
