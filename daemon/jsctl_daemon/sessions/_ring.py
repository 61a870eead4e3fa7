"""A bounded byte ring buffer addressed by absolute stream offsets."""

from __future__ import annotations

from dataclasses import dataclass

_MIN_ALLOCATION = 4096


@dataclass(frozen=True)
class ReadResult:
    """Bytes read from a stream: the data, where to read next, and how much fell out unseen."""

    data: bytes
    next_offset: int
    missed: int = 0  # bytes between the requested offset and the oldest byte still kept


def utf8_safe_cut(data: bytes) -> int:
    """Length of ``data`` without a trailing incomplete UTF-8 sequence (0-3 bytes shorter)."""
    for back in range(1, min(3, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: keep looking for the lead byte
            continue
        if byte & 0xE0 == 0xC0:
            needed = 2
        elif byte & 0xF0 == 0xE0:
            needed = 3
        elif byte & 0xF8 == 0xF0:
            needed = 4
        else:
            return len(data)  # ASCII or not UTF-8 at all: nothing to hold back
        return len(data) - back if back < needed else len(data)
    return len(data)


class RingBuffer:
    """Keeps the newest ``capacity`` bytes of a stream; memory grows lazily up to that size."""

    __slots__ = (
        "_buf",
        "_end",
        "capacity",
    )

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("ring buffer capacity must be positive")
        self.capacity = capacity
        self._buf = bytearray()  # grows by doubling until it reaches capacity, then wraps
        self._end = 0  # absolute offset one past the newest byte

    @property
    def end_offset(self) -> int:
        """Absolute offset one past the newest byte ever written."""
        return self._end

    @property
    def start_offset(self) -> int:
        """Absolute offset of the oldest byte still kept."""
        return max(0, self._end - self.capacity)

    @property
    def allocated(self) -> int:
        """Bytes of memory the buffer holds now."""
        return len(self._buf)

    def append(self, data: bytes) -> None:
        """Add bytes at the end, dropping the oldest ones beyond capacity."""
        if not data:
            return
        self._grow_for(self._end + len(data))
        view = memoryview(data)
        if len(view) > len(self._buf):
            skipped = len(view) - len(self._buf)
            self._end += skipped
            view = view[skipped:]
        size = len(self._buf)
        pos = self._end % size
        first = min(len(view), size - pos)
        self._buf[pos : pos + first] = view[:first]
        if first < len(view):
            self._buf[: len(view) - first] = view[first:]
        self._end += len(view)

    def read_from(self, offset: int, max_bytes: int, *, limit: int | None = None) -> ReadResult:
        """Up to ``max_bytes`` from ``offset`` (not past ``limit``), with the count of bytes missed.

        When ``max_bytes`` cuts a UTF-8 character in two, the cut moves back to its start so every
        chunk decodes on its own; the next read starts at that character.
        """
        end = self._end if limit is None else min(limit, self._end)
        if offset < 0:
            raise ValueError(f"offset {offset} is negative")
        if offset > self._end:
            raise ValueError(f"offset {offset} is past the end of the output ({self._end})")
        start = self.start_offset
        missed = max(0, min(start, end) - offset)
        offset = max(offset, start)
        stop = min(end, offset + max(0, max_bytes))
        if stop <= offset:
            return ReadResult(b"", offset, missed)
        data = self._slice(offset, stop)
        if stop < end:
            kept = utf8_safe_cut(data)
            if kept > 0:
                data = data[:kept]
        return ReadResult(data, offset + len(data), missed)

    def _slice(self, start: int, stop: int) -> bytes:
        size = len(self._buf)
        a, b = start % size, stop % size
        if a < b or stop - start == 0:
            return bytes(self._buf[a:b])
        return bytes(self._buf[a:]) + bytes(self._buf[:b])

    def _grow_for(self, new_end: int) -> None:
        size = len(self._buf)
        wanted = min(self.capacity, new_end)
        if size >= wanted:
            return
        new_size = max(_MIN_ALLOCATION, size)
        while new_size < wanted:
            new_size *= 2
        # Below capacity the buffer has never wrapped, so offsets equal positions: just extend.
        self._buf.extend(bytes(min(new_size, self.capacity) - size))
