"""KoKo's message format is stated once (jsctl_koko): what one end writes, the other reads."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from jsctl_koko import (
    ENVELOPE_KEYS,
    decode_client_message,
    decode_server_message,
    encode_client_message,
    encode_server_message,
    nested,
    read_terminal_frame,
)

TEXT = st.text(max_size=200)


@given(msg_id=TEXT, kind=st.sampled_from(["TERMINAL_DATA", "TERMINAL_RESIZE", "PING"]), data=TEXT)
def test_what_the_daemon_writes_the_sandbox_reads(msg_id: str, kind: str, data: str) -> None:
    decoded = decode_client_message(encode_client_message(msg_id, kind, data))
    assert decoded is not None
    assert (decoded.id, decoded.type, decoded.data, decoded.err, decoded.raw) == (
        msg_id,
        kind,
        data,
        "",
        b"",
    )


@given(msg_id=TEXT, data=TEXT, err=TEXT)
def test_what_the_sandbox_writes_the_daemon_reads(msg_id: str, data: str, err: str) -> None:
    frame = decode_server_message(encode_server_message("CLOSE", id=msg_id, data=data, err=err))
    assert frame is not None and set(frame) == set(ENVELOPE_KEYS)
    assert (frame["id"], frame["type"], frame["data"], frame["err"]) == (msg_id, "CLOSE", data, err)


def test_structured_data_travels_nested_as_a_string() -> None:
    payload = {"session": {"id": "s1", "user": "mei"}, "permission": {"actions": ["connect"]}}
    frame = decode_server_message(encode_server_message("TERMINAL_SESSION", data=payload))
    assert frame is not None and isinstance(frame["data"], str)
    assert nested(frame["data"]) == payload
    assert nested("[1, 2") == "[1, 2"  # not JSON after all: the text itself
    assert nested("plain") == "plain" and nested(None) is None


def test_what_is_not_a_frame_is_refused_not_raised() -> None:
    for text in ("", "not json", "[1, 2]", "42", json.dumps("CLOSE")):
        assert decode_server_message(text) is None
        assert decode_client_message(text) is None
    assert decode_client_message(json.dumps({"type": "TERMINAL_DATA", "data": 42})) is None
    assert decode_client_message(json.dumps({"type": "X", "raw": "%%%"})) is None


def test_a_terminal_frame_says_what_it_means() -> None:
    session = {
        "session": {"id": "s1", "user": "mei", "asset": "web-01", "account": "deploy", "x": 1},
        "permission": {"actions": ["connect"], "expired_at": 9},
        "setting": {"theme": "dark"},
    }
    news = read_terminal_frame(encode_server_message("TERMINAL_SESSION", data=session))
    assert news is not None and news.shell and not news.closed and news.error is None
    # Kept for the terminal's whole life: KoKo's session id and asset, nothing else.
    assert news.facts == {"session": {"id": "s1", "asset": "web-01"}}
    closed = read_terminal_frame(encode_server_message("CLOSE"))
    assert closed is not None and closed.closed and closed.error is None
    error = read_terminal_frame(encode_server_message("ERROR", err="asset offline"))
    assert error is not None and error.error == "asset offline"
    bare = read_terminal_frame(encode_server_message("ERROR"))
    assert bare is not None and bare.error == "error"
    paused = read_terminal_frame(
        encode_server_message("TERMINAL_SESSION_PAUSE", data={"user": "admin"})
    )
    assert paused is not None and paused.facts == {"paused": True, "paused_by": "admin"}
    resumed = read_terminal_frame(encode_server_message("TERMINAL_SESSION_RESUME", data="x"))
    assert resumed is not None and resumed.facts == {"paused": False, "paused_by": None}
    expired = read_terminal_frame(encode_server_message("TERMINAL_PERM_EXPIRED"))
    assert expired is not None and expired.facts == {"permission_state": "TERMINAL_PERM_EXPIRED"}
    odd = read_terminal_frame(encode_server_message("TERMINAL_SESSION", data="not json"))
    assert odd is not None and odd.shell and odd.facts == {}
    ping = read_terminal_frame(encode_server_message("PING"))
    assert ping is not None and (ping.kind, ping.facts, ping.closed) == ("PING", {}, False)
    assert read_terminal_frame("garbage") is None
