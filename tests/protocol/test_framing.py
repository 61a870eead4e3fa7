"""Frames and messages: round trips, splits, truncation, oversize, garbage, wrong types."""

from __future__ import annotations

import struct
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsctl_protocol import (
    MAX_FRAME_BYTES,
    METHODS,
    ErrorCode,
    ErrorReply,
    FrameDecoder,
    ProtocolError,
    Result,
    RpcError,
    StreamPush,
    encode_frame,
    parse_reply,
    parse_request,
)

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.binary()
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
messages = st.dictionaries(st.text(max_size=10), values, max_size=6)


@given(st.lists(messages, min_size=1, max_size=5))
def test_round_trip_many_messages(batch: list[dict[str, Any]]) -> None:
    decoder = FrameDecoder()
    decoder.feed(b"".join(encode_frame(m) for m in batch))
    out = []
    while (message := decoder.next_message()) is not None:
        out.append(message)
    assert out == batch
    assert decoder.pending_bytes == 0


@given(messages, st.data())
def test_split_at_every_byte(message: dict[str, Any], data: st.DataObject) -> None:
    frame = encode_frame(message)
    cut = data.draw(st.integers(0, len(frame)))
    decoder = FrameDecoder()
    decoder.feed(frame[:cut])
    first = decoder.next_message()
    if cut < len(frame):
        assert first is None  # truncated: waits, never raises
        decoder.feed(frame[cut:])
        assert decoder.next_message() == message
    else:
        assert first == message


def test_byte_by_byte() -> None:
    frame = encode_frame({"id": 1, "method": "ping", "params": {}})
    decoder = FrameDecoder()
    for index in range(len(frame) - 1):
        decoder.feed(frame[index : index + 1])
        assert decoder.next_message() is None
    decoder.feed(frame[-1:])
    assert decoder.next_message() == {"id": 1, "method": "ping", "params": {}}


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_garbage_raises_only_protocol_error(garbage: bytes) -> None:
    decoder = FrameDecoder(max_bytes=1024)
    decoder.feed(garbage)
    for _ in range(50):
        try:
            if decoder.next_message() is None:
                break
        except ProtocolError:
            if decoder.broken:
                break


@given(st.binary(min_size=1, max_size=64))
def test_garbage_body_is_skipped_and_stream_stays_in_sync(body: bytes) -> None:
    try:
        valid = isinstance(msgpack.unpackb(body), dict)
    except Exception:
        valid = False
    decoder = FrameDecoder()
    decoder.feed(struct.pack(">I", len(body)) + body + encode_frame({"after": True}))
    if not valid:
        with pytest.raises(ProtocolError):
            decoder.next_message()
    else:
        decoder.next_message()
    assert decoder.next_message() == {"after": True}
    assert not decoder.broken


def test_oversize_frame_is_refused_both_ways() -> None:
    decoder = FrameDecoder()
    decoder.feed(struct.pack(">I", MAX_FRAME_BYTES + 1))
    with pytest.raises(ProtocolError, match="exceeds"):
        decoder.next_message()
    assert decoder.broken
    with pytest.raises(ProtocolError):
        encode_frame({"data": b"x" * (MAX_FRAME_BYTES + 1)})


def test_unencodable_message() -> None:
    with pytest.raises(ProtocolError):
        encode_frame({"x": object()})  # type: ignore[dict-item]


@given(values)
def test_parse_request_rejects_wrong_shapes_with_rpc_error(junk: Any) -> None:
    for candidate in (
        {"id": junk, "method": "ping"},
        {"id": 1, "method": junk},
        {"id": 1, "method": "ping", "params": junk},
    ):
        try:
            request = parse_request(candidate)
        except RpcError as exc:
            assert exc.code == ErrorCode.BAD_REQUEST
        else:
            assert isinstance(request.method, str)
            assert isinstance(request.params, dict)


def test_replies_round_trip() -> None:
    for reply in (
        Result(3, {"a": 1}),
        ErrorReply(4, RpcError(ErrorCode.NOT_FOUND, "no such thing", {"x": 1})),
        ErrorReply(None, RpcError(ErrorCode.BAD_FRAME, "bad")),
        StreamPush("s1", b"bytes"),
    ):
        decoder = FrameDecoder()
        decoder.feed(encode_frame(reply.to_wire()))
        message = decoder.next_message()
        assert message is not None
        parsed = parse_reply(message)
        assert type(parsed) is type(reply)
        assert parsed.to_wire() == reply.to_wire()


@pytest.mark.parametrize("bad", [{}, {"id": 1}, {"id": 1, "error": "text"}, {"stream": 1.5}])
def test_bad_replies(bad: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        parse_reply(bad)


def test_method_table_param_checks() -> None:
    hello = METHODS["hello"]
    assert hello.check_params({"version": 1}) == {"version": 1}
    with pytest.raises(RpcError, match="needs parameter `version`"):
        hello.check_params({})
    with pytest.raises(RpcError, match="must be int"):
        hello.check_params({"version": "1"})
    with pytest.raises(RpcError, match="must be int"):
        hello.check_params({"version": True})
    with pytest.raises(RpcError, match="does not take `bogus`"):
        hello.check_params({"version": 1, "bogus": 2})
    with pytest.raises(RpcError, match="does not take `7`, `x`"):  # msgpack maps may key by int
        hello.check_params({"version": 1, 7: 2, "x": 3})


def test_which_calls_stream() -> None:
    assert METHODS["session.attach"].streams_with({})
    assert METHODS["run.start"].streams_with({"stream": True})
    assert not METHODS["run.start"].streams_with({"wait": 5})
    assert METHODS["audit.query"].streams_with({"follow": True})
    assert not METHODS["ping"].streams_with({})


def test_every_table_row_is_documented() -> None:
    for row in METHODS.values():
        assert row.doc.endswith(".") and len(row.doc) < 100, row.name
        for param in row.params:
            assert param.doc, (row.name, param.name)
