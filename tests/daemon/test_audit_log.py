"""The audit log itself: 0600 append-only JSONL, rotation, and followers fed from memory."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import trio
import trio.testing

from jsctl_daemon.audit import AuditLog


async def _next(records: Any) -> dict[str, Any]:
    with trio.fail_after(5):
        record: dict[str, Any] = await records.__anext__()
        return record


async def test_followers_get_every_new_record_in_order_without_reading_files(
    tmp_path: Path,
) -> None:
    log = AuditLog(tmp_path)
    log.append({"action": "before", "n": 0})  # older than the follower: not shown
    records = log.follow(client=None, asset=None)

    async def append_while_followed() -> None:
        await trio.testing.wait_all_tasks_blocked()  # the follower is parked, waiting
        for n in range(1, 201):
            log.append({"action": "run.start", "client": "ci", "n": n})
            if n % 7 == 0:
                await trio.lowlevel.checkpoint()  # records arrive while the follower yields

    async with trio.open_nursery() as nursery:
        nursery.start_soon(append_while_followed)
        got = [await _next(records) for _ in range(200)]
    assert [r["n"] for r in got] == list(range(1, 201))
    path = tmp_path / "audit" / "audit.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == list(range(201))


async def test_a_follower_that_falls_behind_is_told_how_many_it_missed(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, recent_kept=5)
    records = log.follow(client="ci", asset=None)
    waiter = trio.Event()

    async def first_record() -> None:
        waiter.set()
        assert (await _next(records))["n"] == 1

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first_record)
        await waiter.wait()
        await trio.testing.wait_all_tasks_blocked()
        log.append({"action": "x", "client": "ci", "n": 1})
    for n in range(2, 11):  # nobody reads: the follower falls 9 behind, 5 are kept
        log.append({"action": "x", "client": "ci", "n": n})
    missed = await _next(records)
    assert missed["action"] == "audit.missed" and missed["count"] == 4
    assert [(await _next(records))["n"] for _ in range(5)] == [6, 7, 8, 9, 10]
    # Nothing was lost from the files themselves.
    assert [r["n"] for r in log.query(client="ci")] == list(range(1, 11))


async def test_records_are_kept_in_memory_only_while_someone_follows(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    for n in range(50):  # a fleet's records with nobody following: on disk only
        log.append({"action": "run.end", "client": "ci", "n": n})
    assert not log._recent  # the memory a daemon keeps per record written
    records = log.follow(client="ci", asset=None)

    async def append_soon() -> None:
        await trio.testing.wait_all_tasks_blocked()
        log.append({"action": "x", "client": "ci", "n": 50})
        log.append({"action": "x", "client": "ci", "n": 51})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(append_soon)
        assert (await _next(records))["n"] == 50  # none of the 50 older ones, nothing missed
    assert (await _next(records))["n"] == 51
    await records.aclose()  # the last follower leaves: what it was fed goes
    assert not log._recent
    log.append({"action": "x", "client": "ci", "n": 52})
    assert not log._recent
    again = log.follow(client="ci", asset=None)

    async def append_later() -> None:
        await trio.testing.wait_all_tasks_blocked()
        log.append({"action": "x", "client": "ci", "n": 53})

    async with trio.open_nursery() as nursery:
        nursery.start_soon(append_later)
        assert (await _next(again))["n"] == 53  # a new follower starts at the newest record
    await again.aclose()
    assert [r["n"] for r in log.query(client="ci")] == list(range(54))
