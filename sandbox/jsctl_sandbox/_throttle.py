"""DRF-style per-minute request throttling (v4.10.15+)."""

from __future__ import annotations

import math
from collections import deque

from ._clock import Clock

_DURATION = 60.0


class Throttle:
    """Sliding one-minute windows for anonymous (per IP) and user (per user id) callers."""

    def __init__(self, clock: Clock, rates: tuple[int, int] | None) -> None:
        self.clock = clock
        self.rates = rates
        self._history: dict[str, deque[float]] = {}

    def check(self, key: str, anonymous: bool) -> int | None:
        """Record a request; None if allowed, else the seconds to wait."""
        if self.rates is None:
            return None
        limit = self.rates[0] if anonymous else self.rates[1]
        now = self.clock.now()
        history = self._history.setdefault(("anon:" if anonymous else "user:") + key, deque())
        while history and history[0] <= now - _DURATION:
            history.popleft()
        if len(history) >= limit:
            return max(1, math.ceil(_DURATION - (now - history[0])))
        history.append(now)
        return None

    def reset(self) -> None:
        """Forget all history."""
        self._history.clear()
