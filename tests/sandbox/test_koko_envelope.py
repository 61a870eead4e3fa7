"""The KoKo envelope codec and the UTF-8-safe output splitter (pure, no I/O)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from jsctl_koko import (
    ENVELOPE_KEYS,
    decode_client_message,
    encode_server_message,
)
from jsctl_sandbox._koko_io import Utf8Splitter


def test_server_frame_has_every_v4_key_and_string_data() -> None:
    frame = json.loads(encode_server_message("CONNECT", id="w1", data={"user": {"id": "u"}}))
    assert set(frame) == set(ENVELOPE_KEYS)
    assert frame["data"] == '{"user": {"id": "u"}}'
    assert frame["raw"] is None
    assert frame["interrupt"] is False
    assert json.loads(encode_server_message("X", raw=b"\x00\xff"))["raw"] == "AP8="
    v3 = json.loads(encode_server_message("PING", id="w1", v3=True))
    assert v3 == {"id": "w1", "type": "PING", "data": "", "err": ""}


def test_client_frames_decode_leniently() -> None:
    message = decode_client_message('{"type":"TERMINAL_DATA","data":"ls\\r","extra":1}')
    assert message is not None
    assert (message.type, message.id, message.data) == ("TERMINAL_DATA", "", "ls\r")
    raw = decode_client_message('{"type":"TERMINAL_BINARY","data":"","raw":"AP8="}')
    assert raw is not None and raw.raw == b"\x00\xff"
    nulls = decode_client_message('{"type":"PING","data":null,"id":null}')
    assert nulls is not None and nulls.data == ""


def test_undecodable_client_frames_are_dropped() -> None:
    for text in (
        '{"type":"TERMINAL_DATA","data":{"a":1}}',
        '{"type":"TERMINAL_DATA","data":5}',
        '{"type":"TERMINAL_DATA","data":false}',
        '{"type":7,"data":""}',
        '{"type":"TERMINAL_BINARY","raw":"not base64!"}',
        "[1,2]",
        "not json",
    ):
        assert decode_client_message(text) is None, text


def test_splitter_holds_back_an_unfinished_character() -> None:
    splitter = Utf8Splitter()
    euro = "€".encode()
    assert splitter.feed(b"ab" + euro[:2]) == b"ab"
    assert splitter.feed(euro[2:] + b"c") == euro + b"c"
    assert splitter.flush() == b""


@given(st.text(), st.lists(st.integers(min_value=0, max_value=64), max_size=20))
def test_splitter_chunks_are_whole_characters(text: str, cuts: list[int]) -> None:
    data = text.encode()
    bounds = sorted({min(cut * 3, len(data)) for cut in cuts} | {0, len(data)})
    splitter = Utf8Splitter()
    chunks = [splitter.feed(data[a:b]) for a, b in itertools.pairwise(bounds)]
    chunks.append(splitter.flush())
    assert b"".join(chunks) == data
    for chunk in chunks:
        chunk.decode("utf-8")


def test_splitter_passes_invalid_bytes_through() -> None:
    splitter = Utf8Splitter()
    out = splitter.feed(b"\xff\xfe") + splitter.feed(b"\x80x") + splitter.flush()
    assert out == b"\xff\xfe\x80x"
