"""One injectable clock for every expiry in the sandbox (tests advance it)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

# JumpServer's default TIME_ZONE is Asia/Shanghai; a non-zero offset keeps clients honest.
SERVER_TZ = timezone(timedelta(hours=8))
DATETIME_FORMAT = "%Y/%m/%d %H:%M:%S %z"


class Clock:
    """Wall-clock seconds plus an offset that the control API can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current sandbox time as a Unix timestamp."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self.offset += seconds


def format_datetime(ts: float | None) -> str | None:
    """Render a timestamp the way JumpServer's REST API does (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, SERVER_TZ).strftime(DATETIME_FORMAT)
