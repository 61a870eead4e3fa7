"""Property tests for the output ring buffer: offsets, wraparound, missed counts, UTF-8 cuts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jsctl_daemon.sessions import RingBuffer
from jsctl_daemon.sessions._ring import utf8_safe_cut

chunks = st.lists(st.binary(min_size=0, max_size=300), max_size=40)


@given(
    capacity=st.integers(1, 9000),
    data=chunks,
    offset_frac=st.floats(0, 1),
    max_bytes=st.integers(0, 9000),
)
@settings(max_examples=300)
def test_read_matches_the_stream_tail(
    capacity: int, data: list[bytes], offset_frac: float, max_bytes: int
) -> None:
    ring = RingBuffer(capacity)
    stream = b""
    for chunk in data:
        ring.append(chunk)
        stream += chunk
    assert ring.end_offset == len(stream)
    assert ring.start_offset == max(0, len(stream) - capacity)
    assert ring.allocated <= capacity

    offset = int(offset_frac * len(stream))
    result = ring.read_from(offset, max_bytes)
    start = ring.start_offset
    assert result.missed == max(0, start - offset)
    first = max(offset, start)
    assert result.data == stream[first : first + len(result.data)]
    assert result.next_offset == first + len(result.data)
    # Only a UTF-8 cut may make the read shorter than asked, by at most 3 bytes, never to nothing.
    wanted = min(max_bytes, len(stream) - first)
    assert wanted - 3 <= len(result.data) <= wanted
    assert (wanted == 0) == (len(result.data) == 0)


@given(capacity=st.integers(1, 5000), data=chunks, step=st.integers(1, 700))
@settings(max_examples=200)
def test_following_reader_sees_every_byte_or_counts_it(
    capacity: int, data: list[bytes], step: int
) -> None:
    """A reader that follows the stream gets each byte once or is told it missed it: none lost."""
    ring = RingBuffer(capacity)
    stream = b""
    seen = 0
    missed_total = 0
    offset = 0
    for chunk in data:
        ring.append(chunk)
        stream += chunk
        while offset < ring.end_offset:
            result = ring.read_from(offset, step)
            missed_total += result.missed
            first = offset + result.missed
            assert result.data == stream[first : first + len(result.data)]
            seen += len(result.data)
            assert result.next_offset > offset
            offset = result.next_offset
    assert offset == len(stream)
    assert missed_total + seen == len(stream)


@given(data=chunks, a=st.integers(0, 2000), limit=st.integers(0, 2000))
def test_limit_bounds_the_read(data: list[bytes], a: int, limit: int) -> None:
    ring = RingBuffer(1024)
    for chunk in data:
        ring.append(chunk)
    offset = min(a, ring.end_offset)
    result = ring.read_from(offset, 10_000, limit=limit)
    assert result.next_offset <= max(limit, ring.start_offset, offset)


def test_memory_grows_lazily() -> None:
    ring = RingBuffer(1 << 20)
    assert ring.allocated == 0
    ring.append(b"prompt$ ")
    assert ring.allocated == 4096
    ring.append(b"x" * 10_000)
    assert ring.allocated == 16384
    ring.append(b"y" * (2 << 20))
    assert ring.allocated == 1 << 20
    assert ring.read_from(ring.start_offset, 4).data == b"yyyy"


def test_missed_bytes_exact_after_wraparound() -> None:
    ring = RingBuffer(100)
    for i in range(25):
        ring.append(f"{i:09d}\n".encode())  # 250 bytes
    result = ring.read_from(0, 1000)
    assert result.missed == 150
    assert result.data == b"".join(f"{i:09d}\n".encode() for i in range(15, 25))
    assert result.next_offset == 250


def test_offsets_past_the_end_are_refused() -> None:
    ring = RingBuffer(10)
    ring.append(b"abc")
    with pytest.raises(ValueError, match="past the end"):
        ring.read_from(4, 10)
    with pytest.raises(ValueError, match="negative"):
        ring.read_from(-1, 10)


@given(text=st.text(min_size=1, max_size=50), cut=st.integers(1, 200))
def test_max_bytes_never_splits_a_character(text: str, cut: int) -> None:
    ring = RingBuffer(1000)
    encoded = text.encode()
    ring.append(encoded)
    pieces = []
    offset = 0
    while offset < len(encoded):
        result = ring.read_from(offset, max(cut, 4))
        pieces.append(result.data.decode())  # each piece decodes on its own
        offset = result.next_offset
    assert "".join(pieces) == text


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (b"abc", 3),
        (b"ab\xe2\x82", 2),
        (b"ab\xe2\x82\xac", 5),
        (b"\xf0\x9f\x98", 0),
        (b"a\xc3", 1),
        (b"\xff\xfe", 2),
    ],
)
def test_utf8_safe_cut(data: bytes, kept: int) -> None:
    assert utf8_safe_cut(data) == kept
