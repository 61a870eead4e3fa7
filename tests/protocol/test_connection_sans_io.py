"""The conversation's rules without I/O: bytes in, events out, bytes to send, both sides."""

from __future__ import annotations

import struct

from jsctl_protocol import (
    PROTOCOL_VERSION,
    ErrorCode,
    ErrorReply,
    ProtocolError,
    Request,
    Result,
    RpcError,
    StreamPush,
    encode_frame,
)
from jsctl_protocol._connection import ClientConnection, ServerConnection


def _events(server: ServerConnection, data: bytes) -> list[Request | ErrorReply]:
    server.receive_data(data)
    events: list[Request | ErrorReply] = []
    while (event := server.next_event()) is not None:
        events.append(event)
    return events


def _hello(version: int = PROTOCOL_VERSION) -> bytes:
    return encode_frame({"id": 1, "method": "hello", "params": {"version": version}})


def test_a_call_before_hello_is_refused_and_after_a_hello_result_it_runs() -> None:
    server = ServerConnection("pid 1")
    ping = encode_frame({"id": 2, "method": "ping"})
    [early] = _events(server, ping)
    assert isinstance(early, ErrorReply) and early.error.code == ErrorCode.HELLO_REQUIRED
    [hello] = _events(server, _hello())
    assert isinstance(hello, Request) and not server.greeted
    server.send(Result(hello.id, {"protocol": PROTOCOL_VERSION}))
    assert server.greeted
    [call] = _events(server, ping)
    assert isinstance(call, Request) and call.method == "ping"


def test_a_refused_hello_does_not_open_the_conversation() -> None:
    server = ServerConnection()
    [hello] = _events(server, _hello())
    assert isinstance(hello, Request)
    server.send(ErrorReply(hello.id, RpcError(ErrorCode.UNAUTHORIZED, "bad token")))
    assert not server.greeted
    [late] = _events(server, encode_frame({"id": 3, "method": "ping"}))
    assert isinstance(late, ErrorReply) and late.error.code == ErrorCode.HELLO_REQUIRED


def test_another_protocol_version_is_refused_with_what_to_do() -> None:
    server = ServerConnection("pid 7, jsctl 0.1.0")
    [refused] = _events(server, _hello(PROTOCOL_VERSION + 1))
    assert isinstance(refused, ErrorReply) and refused.error.code == ErrorCode.VERSION_MISMATCH
    assert "pid 7" in refused.error.message and "jsctl daemon restart" in refused.error.message
    assert refused.error.data == {"daemon_protocol": PROTOCOL_VERSION}


def test_bad_frames_requests_methods_and_params_become_error_events() -> None:
    server = ServerConnection()
    garbage = struct.pack(">I", 3) + b"\xc1\xc1\xc1"
    events = _events(
        server,
        garbage
        + encode_frame({"id": 5})
        + encode_frame({"id": 6, "method": "sesion.list"})
        + _hello()
        + encode_frame({"id": 8, "method": "hello", "params": {"version": "one"}}),
    )
    codes = [e.error.code if isinstance(e, ErrorReply) else e.method for e in events]
    assert codes == [
        ErrorCode.BAD_FRAME,
        ErrorCode.BAD_REQUEST,
        ErrorCode.UNKNOWN_METHOD,
        "hello",
        ErrorCode.BAD_PARAMS,
    ]
    unknown = events[2]
    assert isinstance(unknown, ErrorReply) and "did you mean `session.list`" in (
        unknown.error.message
    )
    assert not server.broken
    [too_big] = _events(server, struct.pack(">I", 1 << 30))
    assert isinstance(too_big, ErrorReply) and server.broken


def test_params_reach_the_daemon_checked_and_without_nones() -> None:
    server = ServerConnection()
    server.greeted = True
    [call] = _events(
        server,
        encode_frame(
            {"id": 1, "method": "assets.list", "params": {"pattern": "web", "profile": None}}
        ),
    )
    assert isinstance(call, Request) and call.params == {"pattern": "web"}


def test_a_reply_too_large_to_frame_becomes_an_internal_error() -> None:
    server = ServerConnection()
    frame = server.send(Result(4, {"data": b"x" * (17 << 20)}))
    client = ClientConnection()
    client.send_request("ping", {}, 4)
    client.receive_data(frame)
    reply = client.next_event()
    assert isinstance(reply, ErrorReply) and reply.error.code == ErrorCode.INTERNAL


def test_the_client_matches_ids_streams_and_drops_late_answers() -> None:
    client = ClientConnection()
    hello_id, hello = client.send_hello("test/1", token=None)
    assert b"token" not in hello
    call_id, _ = client.send_request("run.start", {"command": "ls", "stream": True})
    gone_id, _ = client.send_request("ping", {})
    client.abandon(gone_id)
    client.receive_data(
        b"".join(
            encode_frame(m)
            for m in (
                {"id": hello_id, "result": {"protocol": PROTOCOL_VERSION, "pid": 9}},
                {"id": gone_id, "result": {"pong": True}},
                {"id": 999, "result": {}},
                {"stream": call_id, "data": b"out"},
                {"id": call_id, "result": {"exit": 0}},
                {"id": None, "error": {"code": ErrorCode.LIMIT, "message": "too much"}},
            )
        )
    )
    events = []
    while (event := client.next_event()) is not None:
        events.append(event)
    assert [type(e) for e in events] == [Result, StreamPush, Result, ErrorReply]
    assert client.hello["pid"] == 9
    assert events[1].id == call_id and events[1].data == b"out"
    # once answered, a call's id is done: a repeat is dropped as late
    client.receive_data(encode_frame({"id": call_id, "result": {}}))
    assert client.next_event() is None


def test_the_client_refuses_a_daemon_of_another_protocol_and_garbage() -> None:
    client = ClientConnection()
    hello_id, _ = client.send_hello("test/1")
    client.receive_data(encode_frame({"id": hello_id, "result": {"protocol": 999}}))
    refused = client.next_event()
    assert isinstance(refused, ErrorReply) and refused.error.code == ErrorCode.VERSION_MISMATCH
    assert client.hello == {}
    client.receive_data(encode_frame({"neither": 1}))
    try:
        client.next_event()
    except ProtocolError:
        pass
    else:
        raise AssertionError("a reply that is no reply was accepted")
