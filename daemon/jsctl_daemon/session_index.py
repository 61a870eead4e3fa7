"""A small on-disk index of live sessions and runs, so that nothing is lost silently.

The daemon rewrites it (0600, atomically) when the session manager says sessions or runs
changed, at most once a second; idle sessions cost it nothing. When a daemon
starts and finds sessions still marked live, the previous daemon died without closing them:
they are kept as *lost*, with when and why, and every front end can say so instead of "no
such session".
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import trio

from jsctl_protocol import quote_input

from .errors import DomainError
from .sessions import SessionManager
from .storage import StateCorrupt, read_private_json, write_private_json

log = logging.getLogger(__name__)

INDEX_FILE = "sessions-index.json"
WRITE_EVERY_S = 1.0  # writes at most this often: a burst of changes (a fleet) is one write
KEEP_LOST_S = 7 * 86400
KEEP_LOST = 500
# What write_private_json leaves behind when interrupted: ".NAME.<8 random characters>".
_TEMP_FILE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}$")


def remove_stale_temp_files(state_dir: Path) -> list[Path]:
    """Delete temp files of atomic writes a previous daemon never finished (we hold the lock)."""
    removed = []
    for directory in (state_dir, *(p for p in state_dir.iterdir() if p.is_dir())):
        for entry in directory.iterdir():
            if _TEMP_FILE.match(entry.name) and entry.is_file():
                try:
                    entry.unlink()
                except OSError:
                    continue
                removed.append(entry)
    if removed:
        log.info(
            "removed %d unfinished state file(s): %s",
            len(removed),
            ", ".join(p.name for p in removed),
        )
    return removed


class LostSession(DomainError):
    """The session (or the run's session) was lost with an earlier daemon; says when and why."""


class SessionIndex:
    """Live sessions and their current runs on disk; sessions a dead daemon left, as lost."""

    def __init__(self, state_dir: Path) -> None:
        self._file = state_dir / INDEX_FILE
        self.lost: dict[str, dict[str, Any]] = {}  # session id -> what was known of it
        self._written: tuple[bool, list[_Row]] | None = None

    def load(self) -> None:
        """Read what the previous daemon left; its live sessions become lost."""
        try:
            data = read_private_json(self._file, "") or {}
        except StateCorrupt as exc:  # an index is a convenience: never a reason not to start
            log.warning("ignoring the session index: %s", exc)
            data = {}
        now = time.time()
        lost = {k: v for k, v in data.get("lost", {}).items() if isinstance(v, dict)}
        clean = bool(data.get("clean_exit"))
        for session in data.get("sessions", []):
            if not isinstance(session, dict) or not isinstance(session.get("id"), str):
                continue
            when = data.get("written_at") or now
            if clean:
                why = "the daemon was stopped and closed it"
            else:
                why = f"the daemon (pid {data.get('pid', '?')}) exited without closing it"
            lost[session["id"]] = {**session, "state": "lost", "lost_at": when, "reason": why}
        recent = sorted(
            (v for v in lost.values() if now - float(v.get("lost_at", 0)) < KEEP_LOST_S),
            key=lambda v: float(v.get("lost_at", 0)),
        )[-KEEP_LOST:]
        self.lost = {v["id"]: v for v in recent}
        if self.lost:
            log.info("%d session(s) of an earlier daemon are recorded as lost", len(self.lost))

    def lost_for(self, owner: str | None) -> list[dict[str, Any]]:
        """The lost sessions ``owner`` may see (all for None, the person)."""
        return [v for v in self.lost.values() if owner is None or v.get("owner") == owner]

    def explain_session(self, ref: str, owner: str | None) -> None:
        """Raise LostSession if ``ref`` names a session an earlier daemon lost."""
        for record in self.lost_for(owner):
            if ref in (record["id"], record.get("name")):
                raise LostSession(_story(record), {"lost": record})

    def explain_run(self, handle: str, owner: str | None) -> None:
        """Raise LostSession if ``handle`` is a run of a session an earlier daemon lost."""
        session_id = handle.rpartition("-")[0]
        for record in self.lost_for(owner):
            if record["id"] == session_id:
                run = record.get("run") or {}
                if run.get("handle") == handle:
                    what = f"run {quote_input(handle)} ({quote_input(run.get('command', ''))})"
                else:
                    what = f"run {quote_input(handle)}"
                raise LostSession(
                    f"{what} cannot be waited on: {_story(record)}",
                    {"lost": record},
                )

    async def run(self, sessions: SessionManager) -> None:
        """Keep the file in step with the live sessions until cancelled, then write it closed.

        Written when the manager notes a change (at once after a quiet spell, then at most
        once a second), so it is at most a second behind and does nothing while none comes.
        """
        changes = sessions.changes
        try:
            while True:
                seen = changes.version
                self._write_if_changed(sessions, clean_exit=False)
                await trio.sleep(WRITE_EVERY_S)
                await changes.wait_past(seen)
        finally:  # synchronous: a cancelled daemon still writes its last word
            self._write_if_changed(sessions, clean_exit=True)

    def _write_if_changed(self, sessions: SessionManager, *, clean_exit: bool) -> None:
        # Rows (tuples) are what is compared with the last write and kept until the next: a
        # dict per session would cost every idle session ~0.3 KiB more.
        rows: list[_Row] = []
        for info in sessions.list_sessions(include_ended=False).sessions:
            run_row = None
            if info.current_run:
                try:
                    run = sessions.get_run(info.current_run)
                except Exception:  # finished and forgotten between the two looks
                    run = None
                if run is not None:
                    run_row = (run.id, run.command[:200], run.started_at)
            rows.append(
                (
                    info.id,
                    info.name,
                    info.owner,
                    info.profile,
                    info.asset,
                    info.account,
                    info.created_at,
                    run_row,
                )
            )
        written = (clean_exit, rows)
        if self._written == written:  # e.g. a run started and ended meanwhile
            return
        try:
            write_private_json(
                self._file,
                {
                    "pid": os.getpid(),
                    "written_at": time.time(),
                    "clean_exit": clean_exit,
                    "sessions": [_entry(row) for row in rows],
                    "lost": self.lost,
                },
            )
        except OSError as exc:
            log.warning("cannot write the session index %s: %s", self._file, exc)
            return
        self._written = written


_Row = tuple[str, str | None, str, str, str, str, float, tuple[str, str, float] | None]


def _entry(row: _Row) -> dict[str, Any]:
    """A session's entry in the file."""
    session_id, name, owner, profile, asset, account, created_at, run = row
    entry: dict[str, Any] = {
        "id": session_id,
        "name": name,
        "owner": owner,
        "profile": profile,
        "asset": asset,
        "account": account,
        "created_at": created_at,
    }
    if run is not None:
        entry["run"] = {"handle": run[0], "command": run[1], "started_at": run[2]}
    return entry


def _story(record: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(record.get("lost_at", 0))))
    name = f" ({record['name']})" if record.get("name") else ""
    return (
        f"session {record['id']}{name} on {record.get('account', '?')}@{record.get('asset', '?')}"
        f" was lost at {when}: {record.get('reason', 'the daemon stopped')}; "
        "its output is gone — open a new one"
    )
