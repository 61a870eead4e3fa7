"""One client connection: decode frames, check hello and permissions, dispatch, reply.

Everything that can happen on one connection ends at most that connection: ``serve`` is the one
door through which a connection leaves, whatever the reason (EOF, reset, garbage, a handler
bug, being cut off), and nothing from it reaches the listener.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import trio

from jsctl_protocol import (
    METHODS,
    ErrorCode,
    ErrorReply,
    Request,
    Result,
    RpcError,
    StreamPush,
)
from jsctl_protocol._connection import ServerConnection

from . import __version__
from .rpc import CallContext, Connection
from .translate import as_rpc_error

if TYPE_CHECKING:
    from .server import Daemon

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 30.0  # a peer that never says hello does not hold a slot forever
READ_CHUNK = 256 * 1024
MAX_STREAMING_CALLS = 64  # streaming calls one connection may hold open at once


@dataclass
class FrameBudget:
    """Bytes of unfinished frames held across all connections, under one cap."""

    cap: int
    held: int = 0

    def update(self, before: int, after: int) -> bool:
        """Account a connection's change from ``before`` to ``after``; False if over the cap."""
        self.held += after - before
        return after == 0 or self.held <= self.cap


class ClientConnection:
    """Serves one connected front end until it goes away."""

    def __init__(self, daemon: Daemon, stream: trio.SocketStream, state: Connection) -> None:
        self._daemon = daemon
        self._stream = stream
        self._state = state
        self._send_lock = trio.Lock()
        # The rules of the conversation (frames, hello first, version, table-checked params).
        self._conn = ServerConnection(f"pid {os.getpid()}, jsctl {__version__}")
        self._held = 0  # bytes of this connection counted in the daemon's frame budget
        self._closed = False
        self._streaming = 0
        self._method = ""  # the call in progress on the read loop, for the log
        self._scope: trio.CancelScope | None = None
        self.send_started: float | None = None  # when a send that has not finished began

    @property
    def number(self) -> int:
        """The connection's number in logs."""
        return self._state.number

    def cut_off(self, why: str) -> None:
        """End this connection now (a reader that stopped reading, a daemon limit)."""
        if not self._closed:
            log.warning("connection %d cut off: %s", self.number, why)
        self._closed = True
        if self._scope is not None:
            self._scope.cancel()

    async def serve(self) -> None:
        """Read requests until the connection ends, for whatever reason; never raises."""
        try:
            async with trio.open_nursery() as nursery:
                self._scope = nursery.cancel_scope
                try:
                    await self._read_loop(nursery)
                finally:
                    nursery.cancel_scope.cancel()
        except* (trio.BrokenResourceError, trio.ClosedResourceError):
            log.debug("connection %d: the peer went away", self.number)
        except* Exception as group:
            log.error(
                "connection %d ended by an error (in `%s`): %s",
                self.number,
                self._method or "the read loop",
                "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions),
                exc_info=group,
            )
        finally:
            self._closed = True
            self._daemon.frame_budget.update(self._held, 0)
            self._held = 0

    async def _read_loop(self, nursery: trio.Nursery) -> None:
        with trio.move_on_after(HELLO_TIMEOUT_S):
            while not self._conn.greeted:
                if not await self._read_some(nursery):
                    return
        if not self._conn.greeted:
            log.info("connection %d: no hello in time, closing", self.number)
            return
        while await self._read_some(nursery):  # no deadline (and no cancel scope) per request
            pass

    async def _read_some(self, nursery: trio.Nursery) -> bool:
        """Read and handle what has arrived; False once the connection is over."""
        data = await self._stream.receive_some(READ_CHUNK)
        if not data:
            return False
        self._conn.receive_data(data)
        if not await self._handle_buffered(nursery):
            return False
        pending = self._conn.pending_bytes
        within = self._daemon.frame_budget.update(self._held, pending)
        self._held = pending
        if not within:
            await self._send(
                ErrorReply(
                    None,
                    RpcError(
                        ErrorCode.LIMIT,
                        "the daemon holds too many bytes of unfinished requests; "
                        "send smaller requests or fewer at once",
                    ),
                )
            )
            log.warning("connection %d closed: frame budget exceeded", self.number)
            return False
        return True

    async def _handle_buffered(self, nursery: trio.Nursery) -> bool:
        """Dispatch every complete request; False when the connection must close."""
        while True:
            request = self._conn.next_event()
            if request is None:
                return True
            if isinstance(request, ErrorReply):
                await self._send(request)
                if self._conn.broken:
                    return False
                continue
            # A streaming call runs beside the read loop (the client may type, interrupt or go
            # away meanwhile); any other call is answered in order, without a task of its own.
            if METHODS[request.method].streams_with(request.params):
                if self._streaming >= MAX_STREAMING_CALLS:
                    full = f"this connection already has {MAX_STREAMING_CALLS} streaming calls open"
                    await self._send(ErrorReply(request.id, RpcError(ErrorCode.LIMIT, full)))
                    continue
                self._streaming += 1
                nursery.start_soon(self._stream_call, request)
            else:
                self._method = request.method
                await self._call(request)
                self._method = ""

    async def _stream_call(self, request: Request) -> None:
        try:
            await self._call(request)
        finally:
            self._streaming -= 1

    async def _call(self, request: Request) -> None:
        async def push(data: Any) -> None:
            await self._send(StreamPush(request.id, data))

        context = CallContext(request.method, self._state, request.id, push)
        try:
            result = await self._dispatch(context, request)
        except Exception as exc:  # every failure becomes an error reply; the daemon carries on
            await self._send(ErrorReply(request.id, as_rpc_error(exc, request.method)))
        else:
            await self._send(Result(request.id, result))
        for hook in context.after_reply:
            try:
                hook()
            except Exception:  # a bookkeeping hook's bug must not end the connection
                log.exception("after-reply hook of `%s` failed", request.method)

    async def _dispatch(self, context: CallContext, request: Request) -> Any:
        """Run a request the connection let through (known, after hello, params checked)."""
        if request.method != "hello":
            self._daemon.policy.authorize(context.identity, METHODS[request.method])
        call = self._daemon.calls.get(request.method)
        if call is None:
            raise RpcError(
                ErrorCode.UNKNOWN_METHOD, f"this daemon does not implement `{request.method}` yet"
            )
        return await call(context, request.params)

    async def _send(self, reply: Result | ErrorReply | StreamPush) -> None:
        """Send one frame; a dead or stalled peer ends quietly (the watchdog cuts stalls)."""
        if self._closed:
            return
        frame = self._conn.send(reply)
        try:
            self._send_lock.acquire_nowait()  # uncontended (the usual case): no scheduler round
        except trio.WouldBlock:
            await self._send_lock.acquire()
        try:
            if not self._closed:
                self.send_started = trio.current_time()
                await self._stream.send_all(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._closed = True
        finally:
            self.send_started = None
            self._send_lock.release()
