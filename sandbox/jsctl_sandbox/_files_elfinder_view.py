"""elFinder's view of a file volume: requests, volume-relative paths, FileDir entries."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ._files_elfinder_model import entry, hash_path
from ._files_go import go_base, go_dir, go_join, go_parse_bool
from ._files_paths import FileOpError
from ._files_volume import Entry, FileVolume, oserror_guard

__all__ = ["Download", "ElfinderRequest", "Forbidden", "NoContent", "UploadPart", "VolumeView"]


@dataclass
class UploadPart:
    """One ``upload[]`` file of a multipart request."""

    filename: str
    file: BinaryIO


@dataclass
class ElfinderRequest:
    """The decoded form: every value as a list of strings, plus the uploaded files."""

    values: dict[str, list[str]]
    uploads: list[UploadPart] = field(default_factory=list)

    def get(self, key: str) -> str:
        """The first value of a key ("" when absent)."""
        found = self.values.get(key)
        return found[0] if found else ""

    def getlist(self, key: str) -> list[str]:
        """All values of a key."""
        return list(self.values.get(key, []))

    def flag(self, key: str) -> bool:
        """A bool field (strconv.ParseBool; anything else is false)."""
        return bool(go_parse_bool(self.get(key)))

    def targets(self) -> list[str]:
        """``targets[]`` values."""
        return self.getlist("targets[]")


@dataclass
class Download:
    """``file``: stream this reader as an attachment (or inline)."""

    reader: BinaryIO
    filename: str
    attachment: bool
    media_type: str | None = None  # else guessed from the name


@dataclass
class NoContent:
    """``abort``: HTTP 204."""


@dataclass
class Forbidden:
    """``file`` failed: HTTP 403 with this plain-text body."""

    text: str


class VolumeView:
    """The volume as elFinder sees it: paths relative to the volume, entries as FileDirs."""

    def __init__(self, volume: FileVolume, vid: str) -> None:
        self.volume = volume
        self.vid = vid
        self.archives: dict[str, Path] = {}  # zipdl key -> temporary zip

    def close(self) -> None:
        """Delete zips prepared but never downloaded."""
        for archive in self.archives.values():
            archive.unlink(missing_ok=True)
        self.archives.clear()

    def remote(self, path: str) -> str:
        """The remote path of a volume path (KoKo joins it under "/" first)."""
        return self.volume.remote(go_join("/", path))

    def _file_dir(self, name: str, path: str, parent: str, e: Entry) -> dict[str, Any]:
        hashed, phash = hash_path(self.vid, path), hash_path(self.vid, parent)
        return entry(
            name=name,
            hash=hashed,
            phash="" if phash == hashed else phash,
            mime="directory" if e.is_dir else "file",
            ts=int(e.mtime),
            size=e.size,
            dirs=1 if e.is_dir else 0,
            read=1 if e.mode & 0o400 else 0,
            write=1 if e.mode & 0o200 else 0,
            volumeid=self.vid,
        )

    def child(self, directory: str, e: Entry) -> dict[str, Any]:
        """A listed entry of ``directory``."""
        return self._file_dir(e.name, go_join(directory, e.name), directory, e)

    def root(self) -> dict[str, Any]:
        """The volume root ("Home", locked)."""
        try:
            e = self.volume.stat(self.remote("/"))
            size, ts = e.size, int(e.mtime)
            read, write = (1 if e.mode & 0o400 else 0), (1 if e.mode & 0o200 else 0)
        except FileOpError:
            size, ts, read, write = 0, time.time_ns(), 1, 0  # KoKo's fallback (UnixNano)
        return entry(
            name="Home",
            hash=hash_path(self.vid, "/"),
            mime="directory",
            ts=ts,
            size=size,
            dirs=1,
            read=read,
            write=write,
            locked=1,
            volumeid=self.vid,
        )

    def info(self, path: str) -> dict[str, Any]:
        """One path's FileDir (raises FileOpError)."""
        if path == "/":
            return self.root()
        e = self.volume.stat(self.remote(path))
        name = go_base(path)
        return self._file_dir(e.name if name == "." else name, path, go_dir(path), e)

    def listing(self, path: str) -> list[dict[str, Any]]:
        """A directory's FileDirs; unreadable directories list as empty."""
        try:
            return [self.child(path, e) for e in self.volume.read_dir(self.remote(path))]
        except FileOpError:
            return []

    def parents(self, path: str) -> list[dict[str, Any]]:
        """The listings of a path and every ancestor up to the root."""
        found: list[dict[str, Any]] = []
        current = path
        while True:
            try:
                entries = self.volume.read_dir(self.remote(current))
            except FileOpError:
                return found
            found += [self.child(current, e) for e in entries]
            if current in ("/", ".", ""):
                return found
            current = go_dir(current)

    def make_dir(self, directory: str, name: str) -> dict[str, Any]:
        """Create ``directory/name`` (and parents) and describe it."""
        path = go_join(directory, name.removeprefix("/"))
        self.volume.mkdir_all(self.remote(path))
        return self.info(path)

    def paste_file(
        self, directory: str, name: str, suffix: str, source: BinaryIO
    ) -> dict[str, Any]:
        """Copy a readable into ``directory/name`` (``suffix`` appended if the name is taken)."""
        path = go_join(directory, name)
        try:
            self.volume.stat(self.remote(path))
            path += suffix
        except FileOpError:
            pass
        with source, self.volume.create(self.remote(path)) as out, oserror_guard():
            shutil.copyfileobj(source, out, 1024 * 1024)
        return self.info(path)

    def remove(self, path: str) -> None:
        """Remove a file or a whole directory tree."""
        self.volume.remove(self.remote(path))
