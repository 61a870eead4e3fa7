"""One page of output for a model, and the header and footer lines that say how to go on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._text import clean, safe_cut


@dataclass(frozen=True)
class Page:
    """Cleaned text of the bytes [start, next_offset), with what is known about the rest."""

    text: str
    start: int
    next_offset: int
    end: int  # output is readable up to here now
    missed: int  # bytes before ``start`` that had already left the buffer


def make_page(reply: dict[str, Any], end: int, *, final: bool) -> Page:
    """A page from a daemon read reply ({data, next_offset, missed}), cut on a safe boundary."""
    data: bytes = reply.get("data") or b""
    if isinstance(data, str):
        data = data.encode()
    next_offset = int(reply["next_offset"])
    start = next_offset - len(data)
    cut = safe_cut(data)
    if cut == 0 and (final or end > next_offset):
        cut = len(data)  # nothing more will finish this sequence in reach: show it as it is
    if end > next_offset:  # a full page with more after it: end it on a line when one is near
        newline = data.rfind(b"\n", 0, cut)
        if newline >= cut // 2:
            cut = newline + 1
    return Page(
        clean(data[:cut]), start, start + cut, max(end, start + cut), reply.get("missed", 0)
    )


def fields(**values: Any) -> str:
    """A bracketed ``key=value`` line (None values left out)."""
    parts = [f"{key}={value}" for key, value in values.items() if value is not None]
    return "[" + " ".join(parts) + "]"


def body(page: Page, read_id: str, *, running: bool) -> str:
    """The page's text followed by how to read what it did not show."""
    lines = []
    if page.missed:
        lines.append(f"[{page.missed} older bytes had already left the buffer]")
    lines.append(page.text if page.text else "(no output)")
    more = page.end - page.next_offset
    if more > 0:
        lines.append(f"[{more} more bytes: read id={read_id} offset={page.next_offset}]")
    elif running:
        lines.append(f"[still running: read id={read_id} wait=30 for more and the exit status]")
    return "\n".join(lines)
