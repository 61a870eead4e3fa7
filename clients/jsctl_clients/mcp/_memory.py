"""What an agent client has read, kept on disk so a restarted shim resumes where it stopped.

One small 0600 JSON file per client identity: the daemon pid it last talked to, and for each
session and run it touched, the asset it is on and the offset up to which output was returned.
Losing the file loses nothing but convenience: every offset is also in each tool result.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

MAX_ENTRIES = 256  # sessions and runs remembered; the oldest are forgotten first


class ReadMemory:
    """Read offsets per session id and run handle, persisted after every change."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory
        self._path: Path | None = None
        self._lock = threading.Lock()
        self.daemon_pid: int | None = None
        self.entries: dict[str, dict[str, Any]] = {}

    def use_client(self, name: str) -> None:
        """Load the memory of client identity ``name`` (once the daemon said who we are)."""
        with self._lock:
            if self._directory is None or self._path is not None:
                return
            self._path = self._directory / f"{name}.json"
            self._load(self._path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return  # absent or damaged: start afresh, offsets are in every result anyway
        if isinstance(data, dict) and isinstance(data.get("entries"), dict):
            pid = data.get("daemon_pid")
            self.daemon_pid = pid if isinstance(pid, int) else None
            self.entries = {k: v for k, v in data["entries"].items() if isinstance(v, dict)}

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = json.dumps({"daemon_pid": self.daemon_pid, "entries": self.entries})
        fd, temp = tempfile.mkstemp(prefix=".mcp-", dir=self._path.parent)  # born 0600
        try:
            with os.fdopen(fd, "w") as out:
                out.write(payload)
            os.replace(temp, self._path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def offset(self, key: str) -> int | None:
        """Where reading ``key`` (a session id or run handle) stopped, if known."""
        with self._lock:
            entry = self.entries.get(key)
        return entry.get("offset") if entry else None

    def session(self, session_id: str) -> dict[str, Any] | None:
        """What is remembered of a session ({id, asset, account}), if anything."""
        with self._lock:
            entry = self.entries.get(session_id)
        if not entry or entry.get("kind") != "session" or not entry.get("asset"):
            return None
        return {"id": session_id, "asset": entry["asset"], "account": entry.get("account")}

    def advance(self, key: str, offset: int, **about: Any) -> None:
        """Remember that output of ``key`` was returned up to ``offset`` (never moves back)."""
        with self._lock:
            entry = self.entries.pop(key, {})
            entry.update({k: v for k, v in about.items() if v is not None})
            entry["offset"] = max(offset, entry.get("offset") or 0)
            self.entries[key] = entry  # re-inserted: most recently used last
            while len(self.entries) > MAX_ENTRIES:
                self.entries.pop(next(iter(self.entries)))
            self._save()

    def forget(self, keys: list[str]) -> None:
        """Drop entries (closed or vanished sessions and their runs)."""
        with self._lock:
            for key in keys:
                self.entries.pop(key, None)
            self._save()

    def daemon_changed(self, pid: int) -> list[dict[str, Any]]:
        """Record the daemon's pid; if it changed, forget and return the sessions that were lost."""
        with self._lock:
            if self.daemon_pid == pid:
                return []
            known_before = self.daemon_pid is not None
            lost = [
                {"session": key, **entry}
                for key, entry in self.entries.items()
                if entry.get("kind") == "session"
            ]
            self.daemon_pid = pid
            self.entries = {}
            self._save()
            return lost if known_before else []
