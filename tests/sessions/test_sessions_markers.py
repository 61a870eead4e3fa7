"""Exec markers: found however output is chunked; quoting survives real shells."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsctl_daemon.sessions._lines import exec_line, probe_line
from jsctl_daemon.sessions._markers import (
    MarkerKind,
    MarkerScanner,
    new_token,
    quote_for_shell,
)


def _marker(kind: str, token: str, status: int | None = None) -> bytes:
    tail = f";{status}" if status is not None else ""
    return f"\x1b]7391;{kind}{token}{tail}\x07".encode()


@given(
    before=st.binary(max_size=200),
    output=st.binary(max_size=400),
    status=st.integers(0, 255),
    cuts=st.lists(st.integers(0, 700), max_size=12),
)
@settings(max_examples=300)
def test_scanner_finds_markers_across_any_chunking(
    before: bytes, output: bytes, status: int, cuts: list[int]
) -> None:
    token = new_token()
    stream = before + _marker("B", token) + output + _marker("E", token, status) + b"$ "
    begin_end = len(before) + len(_marker("B", token))
    end_start = begin_end + len(output)
    scanner = MarkerScanner(0)
    found = []
    points = sorted({0, len(stream), *(c for c in cuts if c < len(stream))})
    for a, b in itertools.pairwise(points):
        found += [m for m in scanner.feed(stream[a:b], a) if m.token == token]
        # Nothing past a possible marker start is ever reported as safe.
        assert scanner.safe_end <= b
        if scanner.safe_end > end_start:
            assert len(found) == 2  # readers only get past the END marker once it is known
    assert [(m.kind, m.start, m.end) for m in found] == [
        (MarkerKind.BEGIN, len(before), begin_end),
        (MarkerKind.END, end_start, end_start + len(_marker("E", token, status))),
    ]
    assert found[1].status == status


def test_scanner_holds_back_a_partial_marker_and_releases_plain_escapes() -> None:
    scanner = MarkerScanner(100)
    assert scanner.feed(b"abc\x1b]73", 100) == []
    assert scanner.safe_end == 103
    assert scanner.feed(b"x", 107) == []  # `ESC ]73x` cannot be a marker
    assert scanner.safe_end == 108
    scanner.feed(b"\x1b[31mred\x1b", 108)
    assert scanner.safe_end == 116
    assert scanner.flush() == 117


def test_the_echoed_line_never_contains_a_marker() -> None:
    token = new_token()
    line = exec_line("echo hi", token, stdin_from_terminal=False) + probe_line(token)
    scanner = MarkerScanner(0)
    assert scanner.feed(line, 0) == []
    assert b"\x1b" not in line


SHELLS = [s for s in ("bash", "dash", "zsh") if shutil.which(s)]

# Printable text, newlines, tabs, quotes, control characters and non-ASCII.
awkward_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    max_size=60,
) | st.sampled_from(["it's", "a\tb", "'\"'$?`x`\\", "x" * 2500, "line1\nline2\n", "\x03\x04\x1b[A"])


@pytest.mark.parametrize("shell", SHELLS)
@given(text=awkward_text)
@settings(max_examples=40, deadline=None)
def test_quoting_round_trips_through_a_real_shell(shell: str, text: str) -> None:
    script = f"printf '%s' {quote_for_shell(text)}"
    out = subprocess.run([shell, "-c", script], capture_output=True, check=True).stdout
    assert out == text.encode()
    for typed_line in script.split("\n"):
        assert len(typed_line) <= 1100  # long lines are folded for the tty's line limit
        # Only printable ASCII is typed: no Tab completion, no Ctrl keys, no meta keys.
        assert all(0x20 <= ord(c) < 0x7F for c in typed_line)
