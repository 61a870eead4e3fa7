"""Small output helpers shared by commands: tables, ages, byte streams."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

import click


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a plain aligned table (no colours, so it pipes cleanly)."""
    texts = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in texts)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in texts:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def age(timestamp: float | None) -> str:
    """How long ago, compactly (`42s`, `7m`, `3h`, `2d`)."""
    if not timestamp:
        return "-"
    seconds = max(0, int(time.time() - timestamp))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Crlf:
    """Turns a terminal's CRLF line ends into LF across chunk boundaries, for scripts."""

    def __init__(self) -> None:
        self._pending_cr = False

    def feed(self, data: bytes) -> bytes:
        """Converted bytes (a trailing CR is held until the next chunk)."""
        if self._pending_cr:
            data = b"\r" + data
            self._pending_cr = False
        if data.endswith(b"\r"):
            data, self._pending_cr = data[:-1], True
        return data.replace(b"\r\n", b"\n")

    def flush(self) -> bytes:
        """Whatever is held back."""
        held, self._pending_cr = (b"\r" if self._pending_cr else b""), False
        return held


def write_bytes(data: bytes) -> None:
    """Write raw bytes to stdout now."""
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
