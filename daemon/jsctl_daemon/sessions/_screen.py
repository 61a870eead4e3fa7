"""A lazily updated VT100 screen (pyte) that catches up from the ring buffer on request."""

from __future__ import annotations

import logging

import pyte
import trio

from ._ring import RingBuffer

_FEED_CHUNK = 64 << 10
_MAX_RESIZES_KEPT = 64
logger = logging.getLogger(__name__)


class _Screen(pyte.Screen):
    """pyte's screen, tolerant of private SGR sequences (vim sends ``CSI > 4;2 m``)."""

    def select_graphic_rendition(self, *attrs: int, private: bool = False) -> None:
        if not private:
            super().select_graphic_rendition(*attrs)


def _feed(stream: pyte.ByteStream, data: bytes) -> bool:
    """Feed pyte; False if its parser broke on odd input (the caller then starts a new one)."""
    try:
        stream.feed(data)
    except Exception:
        logger.debug("pyte could not parse terminal output", exc_info=True)
        return False
    return True


class LazyScreen:
    """Feeds pyte only when someone asks for the screen, never on the output hot path."""

    __slots__ = (
        "_catchup_bytes",
        "_cols",
        "_fed",
        "_lock",
        "_resizes",
        "_rows",
        "_screen",
        "_stream",
    )

    def __init__(self, cols: int, rows: int, catchup_bytes: int) -> None:
        self._catchup_bytes = catchup_bytes
        self._cols, self._rows = cols, rows  # the size at the newest output offset
        # A list, not a deque: an idle session keeps one entry, and a deque allocates 64 slots.
        # (offset, cols, rows) from the first resize on; until then the size never changed.
        self._resizes: list[tuple[int, int, int]] | None = None
        self._screen: _Screen | None = None
        self._stream: pyte.ByteStream | None = None
        self._fed = 0  # output offset the pyte screen has seen up to
        self._lock: trio.Lock | None = None  # made on the first screen request

    def note_resize(self, offset: int, cols: int, rows: int) -> None:
        """Remember that the terminal became cols x rows when output reached ``offset``."""
        if self._resizes is None:
            self._resizes = [(0, self._cols, self._rows)]
        self._resizes.append((offset, cols, rows))
        del self._resizes[:-_MAX_RESIZES_KEPT]
        self._cols, self._rows = cols, rows

    def _size_at(self, offset: int) -> tuple[int, int]:
        if self._resizes is None:
            return self._cols, self._rows
        size = (self._resizes[0][1], self._resizes[0][2])  # best guess if older than all kept
        for at, cols, rows in self._resizes:
            if at <= offset:
                size = (cols, rows)
        return size

    def _resizes_after(self, offset: int) -> list[int]:
        return [at for at, _, _ in self._resizes or () if at > offset]

    @property
    def size(self) -> tuple[int, int]:
        """Current (cols, rows)."""
        return self._cols, self._rows

    async def catch_up(self, ring: RingBuffer) -> tuple[list[str], int, int, str, int]:
        """Feed what is new and return (lines, cursor x, cursor y, title, offset)."""
        if self._lock is None:
            self._lock = trio.Lock()
        async with self._lock:
            end = ring.end_offset
            oldest = max(ring.start_offset, end - self._catchup_bytes)
            if self._screen is None or self._fed < oldest:
                # Too far behind: start over from what is kept; full-screen apps redraw anyway.
                cols, rows = self._size_at(oldest)
                self._screen = _Screen(cols, rows)
                self._stream = pyte.ByteStream(self._screen)
                self._fed = oldest
            screen, stream = self._screen, self._stream
            assert stream is not None
            while True:
                # Output is parsed at the size the terminal had when it was produced.
                cols, rows = self._size_at(self._fed)
                if (screen.columns, screen.lines) != (cols, rows):
                    screen.resize(rows, cols)
                if self._fed >= end:
                    break
                stop = min([end, self._fed + _FEED_CHUNK, *self._resizes_after(self._fed)])
                result = ring.read_from(self._fed, stop - self._fed, limit=stop)
                # pyte is slow; keep the event loop responsive while it parses.
                if result.data and not await trio.to_thread.run_sync(_feed, stream, result.data):
                    stream = self._stream = pyte.ByteStream(screen)
                self._fed = max(result.next_offset, stop if not result.data else self._fed)
            lines = list(screen.display)
            return lines, screen.cursor.x, screen.cursor.y, screen.title, self._fed
