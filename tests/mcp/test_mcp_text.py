"""Pure parts of the shim: cleaning terminal bytes, cutting pages, checking tool arguments."""

from __future__ import annotations

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jsctl_clients.cli.agent_cmds import parse_duration
from jsctl_clients.mcp._pages import make_page
from jsctl_clients.mcp._text import clean, safe_cut
from jsctl_clients.mcp._tools import BY_NAME, KEY_BYTES, KEYS


def test_clean_removes_escapes_and_resolves_carriage_returns() -> None:
    raw = (
        b"\x1b]0;title\x07\x1b[1;32mok\x1b[0m done\r\n"
        b"10%\r50%\r100%\r\n"
        b"abc\x08\x08X\r\n"
        b"\x1b(B\x1b=tab\there\x07"
    )
    assert clean(raw) == "ok done\n100%\naX\ntab\there"


def test_clean_keeps_utf8_and_marks_invalid_bytes() -> None:
    assert clean("naïve ✓\r\n".encode()) == "naïve ✓\n"
    assert clean(b"\xff!") == "\ufffd!"


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (b"plain", 5),
        (b"ab\x1b", 2),
        (b"ab\x1b[1;3", 2),
        (b"ab\x1b[1;31m", 9),
        (b"ab\x1b]0;tit", 2),
        (b"ab\x1b]0;title\x07", 12),
        (b"ab\x1b(", 2),
        ("ab✓".encode()[:-1], 2),
        ("ab✓".encode(), 5),
    ],
)
def test_safe_cut_never_ends_inside_a_character_or_escape(data: bytes, kept: int) -> None:
    assert safe_cut(data) == kept


_PIECES = st.sampled_from(
    [b"a", b"xyz", b"\n", b"\x1b[31m", b"\x1b[0m", b"\x1b]0;t\x07", "✓".encode(), b" ", b"\t"]
)


@given(st.lists(_PIECES, max_size=60), st.integers(min_value=8, max_value=40))
def test_pages_cut_safely_join_to_the_same_text(pieces: list[bytes], page: int) -> None:
    # pages are at least as long as any escape here (in use: >= 200 bytes against a few)
    data = b"".join(pieces)
    texts, offset = [], 0
    while offset < len(data):
        chunk = data[offset : offset + page]
        end = len(data)
        reply = {"data": chunk, "next_offset": offset + len(chunk), "missed": 0}
        result = make_page(reply, end, final=offset + len(chunk) >= end)
        assert result.start == offset and result.next_offset > offset
        texts.append(result.text)
        offset = result.next_offset
    assert "".join(texts) == clean(data)


def test_tool_arguments_are_checked_by_the_tables_validator() -> None:
    run = BY_NAME["run"]
    assert run.check({"command": "ls", "asset": "web-01"}) is None
    assert "needs parameter `command`" in str(run.check({"asset": "web-01"}))
    assert "needs parameter `command`" in str(run.check({"command": ""}))
    assert "does not take `shell`" in str(run.check({"command": "ls", "shell": "zsh"}))
    assert "at most 600" in str(run.check({"command": "ls", "wait": 601}))
    assert "must be float" in str(run.check({"command": "ls", "wait": "soon"}))
    assert "must be a finite number" in str(run.check({"command": "ls", "wait": float("nan")}))
    assert "the limit is 65536" in str(run.check({"command": "x" * 70000}))
    assert "must be int" in str(BY_NAME["read"].check({"id": "x", "offset": 1.5}))
    assert "must be int" in str(BY_NAME["read"].check({"id": "x", "offset": True}))
    keys = BY_NAME["input"]
    assert keys.check({"session": "s", "keys": ["ctrl-c", "enter", "up"]}) is None
    assert "`keys[]` must match" in str(keys.check({"session": "s", "keys": ["ctrl-1"]}))
    seq = {"session": "s", "seq": ["text:ls -l\n", "enter"]}
    assert keys.check(seq) is None
    assert "`seq[]` must match" in str(keys.check({"session": "s", "seq": ["ls"]}))


def test_tool_schemas_say_the_rules_the_validator_checks() -> None:
    import re

    schema = BY_NAME["run"].input_schema()
    assert schema["required"] == ["command"] and schema["additionalProperties"] is False
    assert schema["properties"]["wait"] == {"type": "number", "minimum": 0, "maximum": 600}
    item = BY_NAME["input"].input_schema()["properties"]["keys"]["items"]
    assert re.match(item["pattern"], "ctrl-c") and not re.match(item["pattern"], "ctrl-1")
    files = BY_NAME["files"].input_schema()["properties"]
    assert files["action"]["enum"][:2] == ["ls", "stat"]


def test_every_named_key_has_bytes() -> None:
    import re

    for name in ("enter", "tab", "esc", "up", "pgdn", "ctrl-a", "ctrl-z"):
        assert re.fullmatch(KEYS, name) and KEY_BYTES[name]
    assert KEY_BYTES["ctrl-c"] == b"\x03" and KEY_BYTES["ctrl-d"] == b"\x04"


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("30m") == 1800
    assert parse_duration("1.5h") == 5400
    assert parse_duration("2w") == 14 * 86400
    with pytest.raises(click.BadParameter):
        parse_duration("soon")
