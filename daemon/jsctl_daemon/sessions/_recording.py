"""Optional asciicast v2 recording of a session's output (never input: it may hold secrets)."""

from __future__ import annotations

import codecs
import json
import os
import time
from pathlib import Path
from typing import IO


class AsciicastRecorder:
    """Appends output and resize events to an asciicast v2 file."""

    def __init__(self, path: Path, cols: int, rows: int, title: str) -> None:
        self.path = path
        self._started = time.monotonic()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        header = {
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": int(time.time()),
            "title": title,
            "env": {"TERM": "xterm-256color"},
        }
        self._write_line(header)

    def _write_line(self, obj: object) -> None:
        if self._file is not None:
            self._file.write(json.dumps(obj, ensure_ascii=False) + "\n")

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._started, 6)

    def output(self, data: bytes) -> None:
        """Record a chunk of terminal output."""
        text = self._decoder.decode(data)
        if text:
            self._write_line([self._elapsed(), "o", text])

    def resize(self, cols: int, rows: int) -> None:
        """Record a window size change."""
        self._write_line([self._elapsed(), "r", f"{cols}x{rows}"])

    def close(self) -> None:
        """Flush what is left and close the file."""
        if self._file is None:
            return
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self._write_line([self._elapsed(), "o", tail])
        self._file.close()
        self._file = None
