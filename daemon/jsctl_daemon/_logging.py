"""The daemon's log: a size-rotated file under the state dir, mode 0600."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Rotating file handler whose files are created 0600."""

    def _open(self):  # type: ignore[no-untyped-def]
        old_umask = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old_umask)


def setup_logging(log_file: Path, level: str = "INFO", also_stderr: bool = False) -> None:
    """Log to ``log_file`` (5 files of 2 MiB), and to stderr when running in the foreground."""
    log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        _PrivateRotatingFileHandler(log_file, maxBytes=2 * 1024 * 1024, backupCount=4)
    ]
    if also_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    for noisy in ("httpx", "httpcore", "trio-websocket", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
