"""One client connection: decode frames, check hello and permissions, dispatch, reply."""

from __future__ import annotations

import difflib
import logging
from typing import TYPE_CHECKING, Any

import trio

from jsctl_protocol import (
    METHODS,
    ErrorCode,
    ErrorReply,
    FrameDecoder,
    ProtocolError,
    Request,
    RequestId,
    Result,
    RpcError,
    StreamPush,
    encode_frame,
    parse_request,
)

from .rpc import HANDLERS, CallContext, Connection
from .translate import as_rpc_error

if TYPE_CHECKING:
    from .server import Daemon

log = logging.getLogger(__name__)

HELLO_TIMEOUT_S = 30.0  # a peer that never says hello does not hold a slot forever
READ_CHUNK = 256 * 1024


class ClientConnection:
    """Serves one connected front end until it goes away."""

    def __init__(self, daemon: Daemon, stream: trio.SocketStream, state: Connection) -> None:
        self._daemon = daemon
        self._stream = stream
        self._state = state
        self._send_lock = trio.Lock()
        self._decoder = FrameDecoder()
        self._closed = False

    async def serve(self) -> None:
        """Read requests until EOF; long-running (streaming) calls run beside the loop."""
        async with trio.open_nursery() as nursery:
            try:
                await self._read_loop(nursery)
            finally:
                nursery.cancel_scope.cancel()

    async def _read_loop(self, nursery: trio.Nursery) -> None:
        with trio.move_on_after(HELLO_TIMEOUT_S):
            while self._state.identity is None:
                if not await self._read_some(nursery):
                    return
        if self._state.identity is None:
            log.info("connection %d: no hello in time, closing", self._state.number)
            return
        while await self._read_some(nursery):  # no deadline (and no cancel scope) per request
            pass

    async def _read_some(self, nursery: trio.Nursery) -> bool:
        """Read and handle what has arrived; False once the connection is over."""
        data = await self._stream.receive_some(READ_CHUNK)
        if not data:
            return False
        self._decoder.feed(data)
        return await self._handle_buffered(nursery)

    async def _handle_buffered(self, nursery: trio.Nursery) -> bool:
        """Dispatch every complete frame; False when the connection must close."""
        while True:
            try:
                message = self._decoder.next_message()
            except ProtocolError as exc:
                await self._send(ErrorReply(None, RpcError(ErrorCode.BAD_FRAME, str(exc))))
                if self._decoder.broken:
                    return False
                continue
            if message is None:
                return True
            try:
                request = parse_request(message)
            except RpcError as exc:
                request_id = message.get("id")
                valid_id = request_id if isinstance(request_id, int | str) else None
                await self._send(ErrorReply(valid_id, exc))
                continue
            table_row = METHODS.get(request.method)
            # A streaming call runs beside the read loop (the client may type, interrupt or go
            # away meanwhile); any other call is answered in order, without a task of its own.
            if table_row is not None and table_row.streams_with(request.params):
                nursery.start_soon(self._call, request)
            else:
                await self._call(request)

    async def _call(self, request: Request) -> None:
        async def push(data: Any) -> None:
            await self._send(StreamPush(request.id, data))

        context = CallContext(self._daemon, self._state, request.id, push)
        try:
            result = await self._dispatch(context, request)
        except Exception as exc:  # every failure becomes an error reply; the daemon carries on
            await self._send(ErrorReply(request.id, as_rpc_error(exc, request.method)))
        else:
            await self._send(Result(request.id, result))
        for hook in context.after_reply:
            hook()

    async def _dispatch(self, context: CallContext, request: Request) -> Any:
        row = METHODS.get(request.method)
        if row is None:
            close = difflib.get_close_matches(request.method, list(METHODS), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise RpcError(ErrorCode.UNKNOWN_METHOD, f"no method `{request.method}`{hint}")
        if self._state.identity is None and request.method != "hello":
            raise RpcError(ErrorCode.HELLO_REQUIRED, "say `hello` first (protocol handshake)")
        params = row.check_params(request.params)
        if request.method != "hello":
            self._daemon.authorize(context.identity, row)
        return await HANDLERS.get(request.method)(context, params)

    async def _send(self, reply: Result | ErrorReply | StreamPush) -> None:
        if self._closed:
            return
        try:
            frame = encode_frame(reply.to_wire())
        except ProtocolError as exc:
            reply_id: RequestId | None = reply.id
            frame = encode_frame(
                ErrorReply(
                    reply_id, RpcError(ErrorCode.INTERNAL, f"reply too large: {exc}")
                ).to_wire()
            )
        try:
            self._send_lock.acquire_nowait()  # uncontended (the usual case): no scheduler round
        except trio.WouldBlock:
            await self._send_lock.acquire()
        try:
            await self._stream.send_all(frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._closed = True
        finally:
            self._send_lock.release()
