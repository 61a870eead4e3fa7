"""The on-disk cache: one private file per profile, so a restarted daemon answers at once."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from ..storage import StateCorrupt, read_private_json, write_private_json
from ._cache import ProfileCache
from ._model import Interner

log = logging.getLogger(__name__)


class DirectoryStore:
    """Reads and writes ``<state>/directory/<profile>.json`` (0600, atomic)."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "directory"

    def _path(self, profile: str) -> Path:
        return self.dir / f"{profile}.json"

    def save(self, profile: str, data: dict[str, Any]) -> None:
        """Write ``profile``'s cache (``ProfileCache.to_disk()``; may run in a worker thread)."""
        # Compact JSON text inside the file: the indented encoder is pure Python and far too
        # slow for 50 000 rows, while encoding one string is done in C.
        payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        write_private_json(self._path(profile), {"profile": profile, "payload": payload})

    def load(self, profile: str, intern: Interner) -> ProfileCache:
        """The cache saved for ``profile`` (empty if none); a damaged file is logged, ignored."""
        path = self._path(profile)
        try:
            data = read_private_json(path, "it is only a cache: delete it")
            if data is not None:
                return ProfileCache.from_disk(json.loads(data["payload"]), intern)
        except (StateCorrupt, KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("ignoring the directory cache %s: %s", path, exc)
        return ProfileCache()

    def drop(self, profile: str) -> None:
        """Delete ``profile``'s cache file."""
        with contextlib.suppress(FileNotFoundError):
            self._path(profile).unlink()
