"""The session index follows the manager's changes: written soon after one, never while idle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import trio
import trio.testing
from test_sessions_memory import idle_opener

from jsctl_daemon.session_index import INDEX_FILE, SessionIndex
from jsctl_daemon.sessions import OpenRequest, SessionManager, open_session_manager


class CountingIndex(SessionIndex):
    """The real index, counting how often it looks at the sessions."""

    looks = 0

    def _write_if_changed(self, sessions: SessionManager, *, clean_exit: bool) -> None:
        self.looks += 1
        super()._write_if_changed(sessions, clean_exit=clean_exit)


def _read(state_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((state_dir / INDEX_FILE).read_text())
    return data


def _version(state_dir: Path) -> int:
    return (state_dir / INDEX_FILE).stat().st_ino  # every write is a rename of a new file


async def test_the_index_follows_changes_and_rests_while_none_come(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    index = CountingIndex(tmp_path)
    async with open_session_manager(idle_opener) as manager, trio.open_nursery() as nursery:
        nursery.start_soon(index.run, manager)
        opened = [
            (await manager.open(OpenRequest("corp", f"web-{i}", "root", "cli"))).id
            for i in range(200)
        ]
        await trio.sleep(1.5)  # a burst of opens lands within a second, in a write or two
        assert {s["id"] for s in _read(tmp_path)["sessions"]} == set(opened)
        assert index.looks <= 3, index.looks

        looks, written = index.looks, _version(tmp_path)
        await trio.sleep(60)  # 200 idle sessions: nothing to look at, nothing written
        assert (index.looks, _version(tmp_path)) == (looks, written)

        run = await manager.start_run(opened[0], "sleep 300", owner="cli")
        await trio.sleep(1.1)
        [entry] = [s for s in _read(tmp_path)["sessions"] if s["id"] == opened[0]]
        assert entry["run"] == {
            "handle": run.id,
            "command": "sleep 300",
            "started_at": run.started_at,
        }

        ends: list[tuple[str, str]] = []
        manager.when_ended(opened[1], lambda info: ends.append((info.id, info.state.value)))
        await manager.kill(opened[1])
        assert ends == [(opened[1], "closed")]
        manager.when_ended(opened[1], lambda info: ends.append((info.id, "told at once")))
        assert ends[-1] == (opened[1], "told at once")  # it had already ended
        manager.rename(opened[2], "nightly")
        await trio.sleep(1.1)
        sessions = {s["id"]: s for s in _read(tmp_path)["sessions"]}
        assert opened[1] not in sessions and sessions[opened[2]]["name"] == "nightly"
        assert _read(tmp_path)["clean_exit"] is False
        nursery.cancel_scope.cancel()
    assert _read(tmp_path)["clean_exit"] is True
