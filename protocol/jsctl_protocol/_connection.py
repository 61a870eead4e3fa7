"""The conversation's rules without I/O, like h11: bytes in, events out, bytes to send.

``ServerConnection`` is the daemon's side of one connection and ``ClientConnection`` a front
end's. They hold every rule above framing: hello first, the protocol version, request ids,
stream frames before a final reply, and errors as events. The daemon (trio) and the blocking
clients only move bytes and decide what to run.
"""

from __future__ import annotations

from ._errors import ErrorCode, ProtocolError, RpcError, quote_input
from ._framing import MAX_FRAME_BYTES, FrameDecoder, encode_frame
from ._messages import ErrorReply, Request, Result, StreamPush, parse_reply, parse_request
from ._version import PROTOCOL_VERSION

TYPE_CHECKING = False  # typing itself is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

    from ._messages import Reply, RequestId


def encode_reply(reply: Reply) -> bytes:
    """One reply as a frame; a reply too large to frame becomes an INTERNAL error saying so."""
    try:
        return encode_frame(reply.to_wire())
    except ProtocolError as exc:
        error = RpcError(ErrorCode.INTERNAL, f"reply too large: {exc}")
        return encode_frame(ErrorReply(reply.id, error).to_wire())


class ServerConnection:
    """The daemon's side: ``next_event`` gives a ``Request`` to run (a known method, after a
    successful hello, with parameters checked against the table) or an ``ErrorReply`` to send
    at once (a bad frame or request, an unknown method, a call before hello, another protocol
    version); after an ErrorReply, ``broken`` says the connection must close."""

    def __init__(self, server: str = "", max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._decoder = FrameDecoder(max_bytes)
        self._server = server  # how the daemon names itself in a version mismatch
        self._hello_ids: set[RequestId] = set()
        self.greeted = False  # a hello has been answered with a result

    @property
    def broken(self) -> bool:
        """Whether the byte stream can no longer be read (close after the last error)."""
        return self._decoder.broken

    @property
    def pending_bytes(self) -> int:
        """Bytes of unfinished frames held."""
        return self._decoder.pending_bytes

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the peer."""
        self._decoder.feed(data)

    def next_event(self) -> Request | ErrorReply | None:
        """The next request to run or error to send; None when more bytes are needed (or, once
        the error that broke the stream was given, for ever)."""
        if self._decoder.broken:
            return None
        try:
            message = self._decoder.next_message()
        except ProtocolError as exc:
            return ErrorReply(None, RpcError(ErrorCode.BAD_FRAME, str(exc)))
        if message is None:
            return None
        try:
            request = parse_request(message)
        except RpcError as exc:
            request_id = message.get("id")
            return ErrorReply(request_id if isinstance(request_id, int | str) else None, exc)
        try:
            request.params = self._check(request)
        except RpcError as exc:
            return ErrorReply(request.id, exc)
        if request.method == "hello":
            self._hello_ids.add(request.id)
        return request

    def _check(self, request: Request) -> dict[str, Any]:
        from ._methods import METHODS

        row = METHODS.get(request.method)
        if row is None:
            import difflib

            close = difflib.get_close_matches(request.method[:200], list(METHODS), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise RpcError(
                ErrorCode.UNKNOWN_METHOD, f"no method {quote_input(request.method)}{hint}"
            )
        if not self.greeted and request.method != "hello":
            raise RpcError(ErrorCode.HELLO_REQUIRED, "say `hello` first (protocol handshake)")
        params = row.check_params(request.params)
        if request.method == "hello" and params["version"] != PROTOCOL_VERSION:
            raise RpcError(
                ErrorCode.VERSION_MISMATCH,
                f"this front end speaks protocol {params['version']} but the running daemon "
                f"({self._server}) speaks {PROTOCOL_VERSION}; "
                "restart it with `jsctl daemon restart`",
                {"daemon_protocol": PROTOCOL_VERSION},
            )
        return params

    def send(self, reply: Reply) -> bytes:
        """The frame for ``reply``; a result to a hello opens the conversation."""
        if not isinstance(reply, StreamPush) and reply.id in self._hello_ids:
            self._hello_ids.discard(reply.id)
            if isinstance(reply, Result):
                self.greeted = True
        return encode_reply(reply)


class ClientConnection:
    """A front end's side: ``send_request`` gives an id and the bytes to write; ``next_event``
    gives the replies (StreamPush items, then the Result or ErrorReply) to calls in flight,
    dropping late answers to calls this side no longer waits for."""

    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self._last_id = 0
        self._waiting: set[RequestId] = set()
        self._hello_id: RequestId | None = None
        self.hello: dict[str, Any] = {}  # the daemon's answer to hello, once it came

    def next_id(self) -> int:
        """A fresh request id."""
        self._last_id += 1
        return self._last_id

    def send_request(
        self, method: str, params: dict[str, Any], request_id: RequestId | None = None
    ) -> tuple[RequestId, bytes]:
        """Start a call: its id and the frame to write (None-valued params are left out)."""
        if request_id is None:
            request_id = self.next_id()
        clean = {key: value for key, value in params.items() if value is not None}
        frame = encode_frame(Request(request_id, method, clean).to_wire())
        self._waiting.add(request_id)
        return request_id, frame

    def send_hello(
        self, client: str, token: str | None = None, request_id: RequestId | None = None
    ) -> tuple[RequestId, bytes]:
        """Start the handshake (this side's protocol version, name and, for agents, token)."""
        params: dict[str, Any] = {"version": PROTOCOL_VERSION, "client": client, "token": token}
        self._hello_id, frame = self.send_request("hello", params, request_id)
        return self._hello_id, frame

    def abandon(self, request_id: RequestId) -> None:
        """Stop waiting for a call: its late replies will be dropped."""
        self._waiting.discard(request_id)

    def receive_data(self, data: bytes) -> None:
        """Bytes read from the daemon."""
        self._decoder.feed(data)

    def next_event(self) -> Reply | None:
        """The next reply to a call in flight (or a connection-level error, id None); None when
        more bytes are needed; ProtocolError when the daemon's bytes make no sense."""
        while True:
            message = self._decoder.next_message()
            if message is None:
                return None
            reply = parse_reply(message)
            if reply.id is not None and reply.id not in self._waiting:
                continue  # a late answer to an abandoned call on this connection
            if isinstance(reply, StreamPush):
                return reply
            if reply.id is not None:
                self._waiting.discard(reply.id)
            if reply.id == self._hello_id and reply.id is not None:
                self._hello_id = None
                if isinstance(reply, Result):
                    return self._greeted(reply)
            return reply

    def _greeted(self, reply: Result) -> Reply:
        answer = reply.result if isinstance(reply.result, dict) else {}
        spoken = answer.get("protocol")
        if spoken != PROTOCOL_VERSION:
            return ErrorReply(
                reply.id,
                RpcError(
                    ErrorCode.VERSION_MISMATCH,
                    f"the running daemon speaks protocol {quote_input(spoken)} but this front end "
                    f"speaks {PROTOCOL_VERSION}; restart it with `jsctl daemon restart`",
                ),
            )
        self.hello = answer
        return reply
