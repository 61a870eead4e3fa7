"""Whether an exec target names many assets: on `jsctl exec`'s path, so nothing imported."""

from __future__ import annotations


def is_selector(ref: str) -> bool:
    """Whether an exec target names many assets: a glob (``web-*``) or a list (``a,b``)."""
    return any(char in ref for char in "*?[,")


def split_selector(ref: str) -> list[str]:
    """``web-*,db-01`` → ``["web-*", "db-01"]`` (blanks dropped)."""
    return [part.strip() for part in ref.split(",") if part.strip()]
