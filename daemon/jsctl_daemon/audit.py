"""The audit trail: append-only JSONL of every remote action, size-capped with rotation.

Records say who (client), where (profile, asset, account, session), what (action, the command
text of runs) and how it ended (exit status, duration, bytes). Never passwords, cookies,
tokens, or the raw keystrokes of human shells.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from .caller import Identity

if TYPE_CHECKING:
    from .sessions import OpenRequest, RunInfo, SessionInfo, SessionManager

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 8 * 1024 * 1024
KEEP_FILES = 5
RECENT_KEPT = 4096  # records a follower may fall behind by before it is told it missed some


class AuditLog:
    """Appends records to ``audit.jsonl`` (0600), rotating to ``audit.jsonl.1`` … at the cap."""

    def __init__(
        self, state_dir: Path, max_bytes: int = MAX_FILE_BYTES, recent_kept: int = RECENT_KEPT
    ) -> None:
        self.directory = state_dir / "audit"
        self.file = self.directory / "audit.jsonl"
        self.max_bytes = max_bytes
        self._followers = trio.lowlevel.ParkingLot()
        # The newest records with their sequence numbers, for followers (the daemon is the only
        # writer, so following needs no file reading at all). Kept only while someone follows:
        # a follower starts at the newest record, and a fleet's records (three per asset) would
        # otherwise stay in memory long after they were written.
        self._recent: deque[tuple[int, dict[str, Any]]] = deque(maxlen=recent_kept)
        self._following = 0
        self._sequence = 0
        self._nursery: trio.Nursery | None = None
        # Who a session's shell runs as when that is not its account (after sudo -i, su -).
        self.run_as: Callable[[str], str | None] = lambda _session: None
        self._fd: int | None = None  # kept open: one write per record, no open/stat/close
        self._size = 0

    def start(self, nursery: trio.Nursery) -> None:
        """Give the log a nursery for its run-completion watchers."""
        self._nursery = nursery
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record (a short synchronous append on a kept-open O_APPEND descriptor)."""
        record = {"time": round(time.time(), 3), **record}
        line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode()
        try:
            if self._fd is None:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._size = os.fstat(self._fd).st_size
            if self._size + len(line) > self.max_bytes:
                os.close(self._fd)
                self._rotate()
                self._fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._size = 0
            os.write(self._fd, line)
            self._size += len(line)
        except OSError as exc:
            log.error("cannot write the audit log %s: %s", self.file, exc)
            self._fd = None
        self._sequence += 1
        if self._following:
            self._recent.append((self._sequence, record))
            self._followers.unpark_all()

    def close(self) -> None:
        """Close the log file (the daemon is stopping)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _rotate(self) -> None:
        for index in range(KEEP_FILES - 1, 0, -1):
            older = self.directory / f"audit.jsonl.{index}"
            if older.exists():
                older.replace(self.directory / f"audit.jsonl.{index + 1}")
        self.file.replace(self.directory / "audit.jsonl.1")
        (self.directory / f"audit.jsonl.{KEEP_FILES}").unlink(missing_ok=True)

    def record(self, identity: Identity, action: str, **fields: Any) -> None:
        """Record an action taken by a caller."""
        self.append(
            {
                "client": identity.name,
                "owner": identity.owner,
                "action": action,
                **{k: v for k, v in fields.items() if v is not None},
            }
        )

    def run_started(
        self,
        identity: Identity,
        run: RunInfo,
        session: OpenRequest,
        stdin_bytes: int = 0,
        fleet: str | None = None,
    ) -> dict[str, Any]:
        """Record a command run; returns what `run_ended`/`watch_run` need to record its end.

        Standard input is counted, never recorded. A run of a fleet names its fleet handle."""
        base: dict[str, Any] = {
            "client": identity.name,
            "owner": identity.owner,
            "profile": session.profile,
            "asset": session.asset,
            "account": session.account,
            "session": run.session_id,
            "run": run.id,
        }
        if fleet is not None:
            base["fleet"] = fleet
        run_as = self.run_as(run.session_id)
        if run_as is not None:
            base["run_as"] = run_as
        self.append(
            {
                **base,
                "action": "run.start",
                "command": run.command,
                "request_id": run.request_id,
                "stdin_bytes": stdin_bytes or None,
            }
        )
        return {**base, "bytes_in": len(run.command.encode()) + stdin_bytes}

    def run_ended(self, base: dict[str, Any], done: RunInfo) -> None:
        """Record how a run ended: state, exit status, duration, bytes."""
        self.append(
            {
                **base,
                "action": "run.end",
                "state": done.state.value,
                "exit_status": done.exit_status,
                "duration_s": round((done.ended_at or time.time()) - done.started_at, 3),
                "bytes_out": done.readable_end - done.output_offset,
            }
        )

    def watch_run(self, base: dict[str, Any], sessions: SessionManager, run_id: str) -> None:
        """Record the end of a run that outlived the call that started it."""
        if self._nursery is not None:
            self._nursery.start_soon(self._watch_run, sessions, run_id, base)

    async def _watch_run(self, sessions: SessionManager, run_id: str, base: dict[str, Any]) -> None:
        try:
            done = await sessions.wait_run(run_id, float("inf"))
        except Exception:  # the session was forgotten: nothing more to record
            return
        self.run_ended(base, done)

    def watch_session(self, client: str, sessions: SessionManager, session: str) -> None:
        """Record how a session ended (state and reason: KoKo's notice, a cut connection, …).

        Who and where come from the session's final state; each session keeps only this small
        callback until it ends (not a copy of its fields)."""
        if self._nursery is None:
            return
        sessions.when_ended(session, partial(self._session_ended, client))

    def _session_ended(self, client: str, info: SessionInfo) -> None:
        self.append(
            {
                "client": client,
                "owner": info.owner,
                "session": info.id,
                "asset": info.asset,
                "profile": info.profile,
                "action": "session.end",
                "state": info.state.value,
                "reason": info.reason,
            }
        )

    def query(
        self,
        client: str | None = None,
        asset: str | None = None,
        since: float | None = None,
        limit: int | None = None,
        owner: str | None = None,
    ) -> list[dict[str, Any]]:
        """Matching records, oldest first (at most the newest ``limit``)."""
        files = [self.directory / f"audit.jsonl.{i}" for i in range(KEEP_FILES, 0, -1)]
        records = []
        for path in [*files, self.file]:
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if self._keep(record, client, asset, since, owner):
                    records.append(record)
        return records[-limit:] if limit else records

    @staticmethod
    def _keep(
        record: dict[str, Any],
        client: str | None,
        asset: str | None,
        since: float | None,
        owner: str | None = None,
    ) -> bool:
        return (
            (client is None or record.get("client") == client)
            and (owner is None or record.get("owner") == owner)
            and (asset is None or record.get("asset") == asset)
            and (since is None or record.get("time", 0) >= since)
        )

    async def follow(
        self, client: str | None, asset: str | None, owner: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """New records as they are appended (a follower too slow to keep up is told the count
        it missed, in a record of its own; `query` still has them)."""
        seen = self._sequence
        self._following += 1
        try:
            while True:
                if self._sequence == seen:  # records appended while we were yielding count too
                    await self._followers.park()
                oldest = self._recent[0][0] if self._recent else seen + 1
                missed = oldest - seen - 1
                newer = [record for number, record in self._recent if number > seen]
                seen = self._sequence
                if missed > 0:
                    yield {"time": round(time.time(), 3), "action": "audit.missed", "count": missed}
                for record in newer:
                    if self._keep(record, client, asset, None, owner):
                        yield record
        finally:
            self._following -= 1
            if not self._following:
                self._recent.clear()
