"""The pure fleet views the CLI and the MCP server share: groups, labels, exit statuses."""

from __future__ import annotations

from typing import Any

from jsctl_clients.fleet_view import (
    EXIT_ALL_OK,
    EXIT_INTERRUPTED,
    EXIT_SOME_FAILED,
    EXIT_UNREACHABLE,
    exit_code,
    group_lines,
    group_results,
    is_selector,
    split_selector,
)
from jsctl_clients.mcp._fleet import summarise


def _result(asset: str, exit_status: int | None, out: bytes, state: str = "done",
            error: str | None = None) -> dict[str, Any]:  # fmt: skip
    ok = state == "done" and exit_status == 0
    outcome = "ok" if ok else ("failed" if state in ("done", "timeout") else "unreachable")
    return {
        "asset": asset, "address": "10.0.0.1", "state": state, "outcome": outcome,
        "exit_status": exit_status, "stdout": out, "stderr": b"", "error": error,
        "handle": f"{asset}s-1" if state != "unreachable" else None, "truncated": False,
    }  # fmt: skip


RESULTS = [
    *(_result(f"web-{i:02d}", 0, b"active\r\n") for i in range(1, 43)),
    _result("web-07x", 3, b"inactive\r\n"),
    _result("web-19x", 3, b"inactive\r\n"),
    _result("db-01", None, b"", "unreachable", "KoKo refused the connection"),
    _result("db-02", 0, b"line 1\r\nline 2\r\n"),
]


def test_selectors_and_exit_statuses() -> None:
    assert is_selector("web-*") and is_selector("a,b") and is_selector("web-0[12]")
    assert not is_selector("web-01") and not is_selector("10.0.1.11")
    assert split_selector(" web-*, ,db-01 ") == ["web-*", "db-01"]
    counts = {"total": 3, "ok": 3, "failed": 0, "unreachable": 0}
    assert exit_code(counts) == EXIT_ALL_OK
    assert exit_code({**counts, "ok": 2, "failed": 1}) == EXIT_SOME_FAILED
    assert exit_code({**counts, "ok": 1, "failed": 1, "unreachable": 1}) == EXIT_UNREACHABLE
    assert exit_code(counts, interrupted=True) == EXIT_INTERRUPTED
    assert len({EXIT_ALL_OK, EXIT_SOME_FAILED, EXIT_UNREACHABLE, EXIT_INTERRUPTED}) == 4


def test_groups_collapse_identical_outputs_failures_first() -> None:
    lines = group_lines(group_results(RESULTS))
    assert lines == [
        "2 assets (exit 3): inactive — web-07x, web-19x",
        "1 asset (unreachable: KoKo refused the connection): (no output) — db-01",
        "42 assets: active",
        "== 1 asset — db-02:",
        "line 1",
        "line 2",
    ]


def test_a_group_is_left_unnamed_only_when_it_holds_most_assets() -> None:
    tie = group_results([_result("web-01", 0, b"vm-a\n"), _result("web-02", 0, b"vm-b\n")])
    assert group_lines(tie) == ["1 asset: vm-a — web-01", "1 asset: vm-b — web-02"]
    all_failed = group_results([_result("a", 1, b"no\n"), _result("b", 1, b"no\n")])
    assert group_lines(all_failed) == ["2 assets (exit 1): no — a, b"]
    finish_order = [_result(n, 3, b"inactive\n") for n in ("web-56", "web-06", "web-156", "²")]
    assert group_lines(group_results(finish_order)) == [
        "4 assets (exit 3): inactive — web-06, web-56, web-156, ²"  # numbers as numbers
    ]
    bulk = [_result(f"w{i}", 0, b"up\n") for i in range(3)] + [_result("x", 0, b"down\n")]
    assert group_lines(group_results(bulk)) == ["3 assets: up", "1 asset: down — x"]


def test_the_model_gets_failures_with_handles_and_a_bounded_text() -> None:
    reply = {
        "fleet": "fleet-abcdefgh", "command": "systemctl is-active nginx", "state": "done",
        "counts": {"total": 46, "ok": 43, "failed": 2, "unreachable": 1},
        "results": [*RESULTS, _result("web-99", 0, b"x" * 50_000)],
    }  # fmt: skip
    text = summarise(reply, 2000)
    lines = text.splitlines()
    assert lines[0] == '[fleet=fleet-abcdefgh state=done command="systemctl is-active nginx"]'
    assert lines[2] == "== 2 assets: exit 3 — web-07x=web-07xs-1, web-19x=web-19xs-1"
    assert lines[3] == "inactive"
    assert lines[4].startswith("== 1 asset: unreachable: KoKo refused") and lines[4].endswith(
        "db-01"
    )
    assert "42 assets: exit 0 — web-01, web-02" in text and "and 30 more" in text
    assert "[output cut: read id=fleet-abcdefgh/web-99 for all of it]" in text
    assert len(text) < 4000  # 50 kB of output from one asset did not flood the model
