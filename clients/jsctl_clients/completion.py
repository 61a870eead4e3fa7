"""Shell completion fast path (filled in later)."""

from __future__ import annotations


def complete_main() -> int:
    """Print nothing yet."""
    return 0
