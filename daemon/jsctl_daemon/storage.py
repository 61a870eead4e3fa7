"""Private, atomic, schema-versioned JSON files under the state dir."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

SCHEMA = 1


class StateCorrupt(Exception):
    """A state file exists but cannot be read; it is left untouched for the person to inspect."""

    def __init__(self, path: Path, why: str, remedy: str) -> None:
        super().__init__(f"the state file {path} is unreadable ({why}); {remedy}")
        self.path = path


def write_private_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename) with mode 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    payload = json.dumps({"schema": SCHEMA, **data}, indent=1, sort_keys=True).encode()
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # born 0600
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(payload)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def read_private_json(path: Path, remedy: str) -> dict[str, Any] | None:
    """The data in ``path`` (without the schema key), None if absent; StateCorrupt if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateCorrupt(path, exc.strerror or str(exc), remedy) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StateCorrupt(path, f"not JSON: {exc}", remedy) from None
    if not isinstance(data, dict):
        raise StateCorrupt(path, "not a JSON object", remedy)
    schema = data.pop("schema", None)
    if schema != SCHEMA:
        raise StateCorrupt(path, f"schema {schema!r}, this jsctl reads {SCHEMA}", remedy)
    return data
