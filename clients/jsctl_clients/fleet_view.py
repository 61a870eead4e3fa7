"""Fleet results as people and models read them: grouped outputs, labels, counts, exit codes.

Pure functions over the daemon's per-asset result maps, shared by the CLI and the MCP server
(standard library only: the CLI imports it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._selector import is_selector as is_selector  # re-exported for the MCP server
from ._selector import split_selector as split_selector

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

# Exit statuses of a fleet (README "Running a command on many assets").
EXIT_ALL_OK = 0
EXIT_SOME_FAILED = 4  # every asset was reached; at least one command failed or timed out
EXIT_UNREACHABLE = 5  # at least one asset could not be reached or its terminal was lost
EXIT_INTERRUPTED = 130


def output_text(result: dict[str, Any], stream: str = "stdout") -> str:
    """An asset's standard output (or ``stream``) as text, the terminal's CRLF made LF."""
    data = result.get(stream) or b""
    text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
    return text.replace("\r\n", "\n")


def both_texts(result: dict[str, Any]) -> str:
    """Standard output, then standard error (what grouping compares and shows)."""
    return output_text(result) + output_text(result, "stderr")


def status_label(result: dict[str, Any]) -> str:
    """How an asset ended, in a few words: ``exit 0``, ``timeout``, ``unreachable: why``."""
    state = result.get("state")
    if state == "done":
        return f"exit {result.get('exit_status')}"
    if state in ("unreachable", "refused", "lost") and result.get("error"):
        return f"{state}: {result['error']}"
    return str(state)


def exit_code(counts: dict[str, int], interrupted: bool = False) -> int:
    """0 when every asset exited 0; else the documented fleet status."""
    if interrupted:
        return EXIT_INTERRUPTED
    if counts.get("unreachable"):
        return EXIT_UNREACHABLE
    if counts.get("ok", 0) != counts.get("total", 0):
        return EXIT_SOME_FAILED
    return EXIT_ALL_OK


def summary_line(counts: dict[str, int], seconds: float | None = None) -> str:
    """``44 assets: 42 ok, 2 failed, 0 unreachable (1.2 s)``."""
    parts = [f"{counts.get(name, 0)} {name}" for name in ("ok", "failed", "unreachable")]
    for name in ("skipped", "running", "pending"):
        if counts.get(name):
            parts.append(f"{counts[name]} {name}")
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    return f"{counts.get('total', 0)} assets: {', '.join(parts)}{took}"


def progress_line(counts: dict[str, int]) -> str:
    """``12/44 done · 1 failed · 8 running``."""
    finished = sum(counts.get(name, 0) for name in ("ok", "failed", "unreachable", "skipped"))
    failed = counts.get("failed", 0) + counts.get("unreachable", 0)
    return (
        f"{finished}/{counts.get('total', 0)} done · {failed} failed · "
        f"{counts.get('running', 0)} running"
    )


@dataclass
class Group:
    """Assets whose runs ended the same way with the same output."""

    label: str
    text: str
    ok: bool
    assets: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)


def _natural(name: str) -> list[tuple[int, int | str]]:
    """A sort key putting web-9 before web-10 (runs of digits compare as numbers)."""
    runs: list[str] = []
    for char in name:
        if runs and char.isdecimal() == runs[-1][-1].isdecimal():
            runs[-1] += char
        else:
            runs.append(char)
    return [(0, int(run)) if run.isdecimal() else (1, run) for run in runs]


def group_results(results: Iterable[dict[str, Any]]) -> list[Group]:
    """Identical (status, output) pairs collapsed; failures first, then the larger groups."""
    groups: dict[tuple[str, str], Group] = {}
    for result in results:
        label, text = status_label(result), both_texts(result)
        group = groups.get((label, text))
        if group is None:
            ok = result.get("outcome") == "ok"
            group = groups[(label, text)] = Group(label, text, ok)
        group.assets.append(str(result.get("asset")))
        group.results.append(result)
    for group in groups.values():  # by name, not by who finished first
        order = sorted(range(len(group.assets)), key=lambda i: _natural(group.assets[i]))
        group.assets = [group.assets[i] for i in order]
        group.results = [group.results[i] for i in order]
    return sorted(groups.values(), key=lambda g: (g.ok, -len(g.assets), g.label, g.text))


def _plural(count: int) -> str:
    return f"{count} asset{'s' if count != 1 else ''}"


def names(assets: Sequence[str], most: int = 12) -> str:
    """``web-07, web-19`` (the first ``most``, then how many more)."""
    shown = ", ".join(assets[:most])
    return shown + (f" and {len(assets) - most} more" if len(assets) > most else "")


def group_lines(groups: Sequence[Group]) -> list[str]:
    """Lines for `--group`: one line per group when its output is one line, else a block.

    A successful group holding most of the assets is not listed by name: the others are the
    news. Every other group is (two groups of one asset each name both).
    """
    total = sum(len(g.assets) for g in groups)
    bulk = next((g for g in groups if g.ok and 2 * len(g.assets) > total), None)
    lines: list[str] = []
    for group in groups:
        text = group.text.rstrip("\n")
        status = "" if group.label == "exit 0" else f" ({group.label})"
        who = "" if group is bulk else f" — {names(group.assets)}"
        if "\n" not in text:
            lines.append(f"{_plural(len(group.assets))}{status}: {text or '(no output)'}{who}")
        else:
            lines.append(f"== {_plural(len(group.assets))}{status}{who}:")
            lines.extend(text.split("\n"))
    return lines
