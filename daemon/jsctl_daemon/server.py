"""The daemon: owns the listening socket, the domains, and every connection's lifetime."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import trio

from jsctl_paths import Paths
from jsctl_protocol import ErrorCode, ErrorReply, RpcError, encode_frame

from . import __version__
from ._connection import ClientConnection, FrameBudget
from ._listen import acquire_lock, bind_socket, ensure_private_dir, inherited_socket, peer_uid
from .audit import AuditLog
from .auth import AuthDomain
from .caller import HUMAN
from .config import Config, load_config
from .consent import ApprovalBroker, CodeVerifier
from .directory import DirectoryDomain
from .file_access import FileAccess
from .files import FileSessionManager, FileSettings, KokoFileOpener
from .fleet import FleetManager
from .identity import IdentityTracker
from .opener import KokoOpener
from .policy import Policy
from .rpc import HANDLERS, Call, Connection
from .services import Services
from .session_access import SessionAccess
from .session_index import SessionIndex, remove_stale_temp_files
from .sessions import SessionLimits, SessionManager, open_session_manager
from .targets import Targets
from .watch_links import WatchLinks

log = logging.getLogger(__name__)

SignalReceiver = AsyncIterator[int]


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
        self.directory = DirectoryDomain(config.paths.state_dir, self.settings, self.auth)
        self.policy = Policy(config.paths.state_dir)
        self.audit = AuditLog(config.paths.state_dir)
        self.approvals = ApprovalBroker(self.audit, self.settings.daemon.approval_timeout)
        self.codes = CodeVerifier()
        self.identities = IdentityTracker(self.audit)
        self.fleets = FleetManager()  # one command on many assets
        self.session_index = SessionIndex(config.paths.state_dir)
        self.files = FileSessionManager(KokoFileOpener(self.auth, FileSettings()))
        self.targets = Targets(self.directory, self.auth, self.policy)
        self.watch_links = WatchLinks()
        self.calls: dict[str, Call] = {}  # every method's handler, bound once serving starts
        self._sessions: SessionManager | None = None
        self.started_at = time.time()
        self.connections: dict[int, Connection] = {}
        self._live: dict[int, ClientConnection] = {}
        self.frame_budget = FrameBudget(self.settings.daemon.max_partial_frame_bytes)
        self._numbers = itertools.count(1)
        self._shutdown = trio.Event()
        self._uid = os.getuid()

    @property
    def sessions(self) -> SessionManager:
        """The live sessions (available while the daemon serves)."""
        if self._sessions is None:
            raise RpcError(ErrorCode.INTERNAL, "the sessions layer is not running")
        return self._sessions

    def _services(self, sessions: SessionManager) -> Services:
        """What handlers may be given (the session manager exists only while serving)."""
        recordings = self.paths.state_dir / "recordings"
        access = SessionAccess(
            sessions,
            self.session_index,
            self.targets,
            self.audit,
            recordings if self.settings.daemon.record_sessions else None,
        )
        return Services(
            settings=self.settings,
            auth=self.auth,
            directory=self.directory,
            policy=self.policy,
            audit=self.audit,
            approvals=self.approvals,
            codes=self.codes,
            identities=self.identities,
            fleets=self.fleets,
            session_index=self.session_index,
            files=self.files,
            sessions=sessions,
            targets=self.targets,
            access=access,
            file_access=FileAccess(self.files, self.targets, self.audit),
            watch_links=self.watch_links,
            control=self,
        )

    def session_limits(self) -> SessionLimits:
        """Limits from the config file."""
        settings = self.settings.daemon
        return SessionLimits(
            max_per_profile=settings.max_sessions_per_profile or None,
            max_per_owner=settings.max_sessions_per_client or None,
            unlimited_owners=frozenset({HUMAN.owner}),  # the limit is an agent client's
            idle_timeout_s=settings.session_idle_timeout or None,
            server_idle_warning_s=settings.server_idle_warning,
            buffer_bytes=settings.session_buffer_bytes,
        )

    async def _close_profile_sessions(self, profile: str) -> None:
        for info in self.sessions.list_sessions(profile=profile, include_ended=False).sessions:
            await self.sessions.kill(info.id, by=f"logout of profile {profile}")

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
            "sessions": len(self._sessions.list_sessions(include_ended=False).sessions)
            if self._sessions
            else 0,
            "profiles": sorted(self.auth.profiles),
            "socket": str(self.paths.socket),
            "log_file": str(self.paths.log_file),
        }

    async def serve(self, listener_socket: socket.socket, signals: SignalReceiver) -> None:
        """Accept connections until shutdown is requested or a signal arrives."""
        listener = trio.SocketListener(trio.socket.from_stdlib_socket(listener_socket))
        self.auth.load()
        self.policy.load()
        self.session_index.load()
        opener = KokoOpener(self.auth)
        try:
            async with (
                open_session_manager(opener, self.session_limits()) as sessions,
                trio.open_nursery() as nursery,
            ):
                self._sessions = sessions
                self.calls = HANDLERS.bind(self._services(sessions))
                self.auth.on_forget.append(self._close_profile_sessions)
                self.audit.start(nursery)
                self.approvals.start(nursery)
                self.identities.start(nursery, sessions)
                self.fleets.start(nursery)
                nursery.start_soon(self.session_index.run, sessions)
                nursery.start_soon(self._watch_signals, signals)
                nursery.start_soon(trio.serve_listeners, self._handle, [listener])
                nursery.start_soon(self._cut_off_stalled_readers)
                nursery.start_soon(self.auth.keepalive_forever)
                nursery.start_soon(opener.run_heartbeat)
                await nursery.start(self.directory.run)
                await nursery.start(self.files.run)
                self.auth.on_forget.append(self.files.forget_profile)
                await self._shutdown.wait()
                log.info("shutting down")
                nursery.cancel_scope.cancel()
        finally:
            with trio.CancelScope(shield=True), trio.move_on_after(10):
                await self.directory.aclose()
                await self.auth.aclose()
            self.audit.close()

    async def _watch_signals(self, signals: SignalReceiver) -> None:
        async for signum in signals:
            log.info("received %s", signal.Signals(signum).name)
            self._shutdown.set()
            return

    async def _handle(self, stream: trio.SocketStream) -> None:
        number = next(self._numbers)
        try:
            await self._serve_connection(number, stream)
        except Exception:  # the last wall: nothing about one connection reaches the listener
            log.exception("connection %d: unexpected failure", number)
        finally:
            with trio.CancelScope(shield=True):
                await stream.aclose()

    async def _serve_connection(self, number: int, stream: trio.SocketStream) -> None:
        try:
            uid: int | None = peer_uid(stream.socket)  # type: ignore[arg-type]
        except OSError:
            uid = None
        if uid is None or uid != self._uid:
            # As ssh-agent: a peer we cannot identify is refused before a byte is read.
            log.warning("refused connection %d from uid %s", number, uid)
            return
        if len(self.connections) >= self.settings.daemon.max_connections:
            log.warning("refused connection %d: %d connections open", number, len(self._live))
            refusal = RpcError(
                ErrorCode.LIMIT,
                f"the daemon already serves {len(self._live)} connections "
                "(max_connections in config.toml)",
            )
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await stream.send_all(encode_frame(ErrorReply(None, refusal).to_wire()))
            return
        state = Connection(number, uid)
        connection = ClientConnection(self, stream, state)
        self.connections[number] = state
        self._live[number] = connection
        try:
            await connection.serve()
        finally:
            del self.connections[number]
            del self._live[number]
            with trio.CancelScope(shield=True):
                await self.auth.logins.cancel_of(number)

    async def _cut_off_stalled_readers(self) -> None:
        """Cut off connections whose peer has not taken a frame for `client_send_timeout`."""
        limit = self.settings.daemon.client_send_timeout
        while True:
            await trio.sleep(min(5.0, limit / 4))
            now = trio.current_time()
            for connection in list(self._live.values()):
                started = connection.send_started
                if started is not None and now - started > limit:
                    connection.cut_off(f"its peer read nothing for {limit:g} s")


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
    # Catch signals before the socket exists: a client that sees the socket may stop us at once.
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        ensure_private_dir(paths.runtime_dir)
        ensure_private_dir(paths.state_dir)
        lock_fd = acquire_lock(paths.lock_file)
        remove_stale_temp_files(paths.state_dir)  # ours alone now: no other daemon writes there
        adopted = inherited_socket()
        sock = adopted or bind_socket(paths.socket)
        try:
            await _serve(config, sock, signals)
        finally:
            sock.close()
            if adopted is None:
                with contextlib.suppress(FileNotFoundError):
                    paths.socket.unlink()
            os.close(lock_fd)
            log.info("stopped")


async def _serve(config: DaemonConfig, sock: socket.socket, signals: SignalReceiver) -> None:
    daemon = Daemon(config)
    from . import handlers

    handlers.load()
    log.info(
        "jsctl daemon %s listening on %s (pid %d)", __version__, config.paths.socket, os.getpid()
    )
    await daemon.serve(sock, signals)
