"""Transfer progress on stderr: a bar with rate and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["ProgressView", "human_bytes"]


def human_bytes(count: float) -> str:
    """1536 → ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}:{seconds % 60:02d}"


class ProgressView:
    """Renders the daemon's progress pushes (``event`` = ``progress`` or ``file``)."""

    def __init__(self, verb: str, stream: TextIO | None = None, tty: bool | None = None) -> None:
        self.verb = verb
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self._drawn = False

    def feed(self, item: dict[str, Any]) -> None:
        """Show one push."""
        if item.get("event") == "file":
            if self.tty:
                self._clear()
            self.stream.write(f"{self.verb} {item.get('file', '')}\n")
            self.stream.flush()
            return
        if self.tty:
            self._draw(item)

    def _draw(self, item: dict[str, Any]) -> None:
        done, total = int(item.get("bytes", 0)), int(item.get("total_bytes", 0))
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        fraction = done / total if total else 1.0
        width = 24
        filled = int(width * min(fraction, 1.0))
        eta = _duration((total - done) / rate) if rate > 0 and total > done else "0:00"
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:5.1f}% "
            f"{human_bytes(done)}/{human_bytes(total)} {human_bytes(rate)}/s ETA {eta} "
            f"{item.get('file', '')}"
        )
        self.stream.write(line[:160] + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self._drawn = False

    def finish(self, result: dict[str, Any]) -> None:
        """The closing summary line."""
        if self.tty:
            self._clear()
        files, size = len(result.get("files", [])), int(result.get("bytes", 0))
        seconds = float(result.get("seconds", 0)) or 1e-6
        self.stream.write(
            f"{self.verb} {files} file{'s' * (files != 1)}, {human_bytes(size)} "
            f"in {seconds:.1f} s ({human_bytes(size / seconds)}/s)\n"
        )
        self.stream.flush()
