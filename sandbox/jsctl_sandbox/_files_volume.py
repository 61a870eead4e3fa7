"""One file session's view of an asset's SFTP root: KoKo's volume operations, blocking.

Both file APIs (``/koko/ws/sftp/`` and elFinder) call these from worker threads. Every
operation checks what real KoKo checks (the account's actions, the root never removed)
plus confinement to the root (see ``_files_paths``). Errors are :class:`FileOpError`
carrying KoKo's text.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ._files_paths import DENIED, FAILURE, NOT_EXIST, FileOpError, FileRoot, error_text
from .koko_contract import KokoGrant

__all__ = ["Entry", "FileVolume", "oserror_guard"]

NO_ASSET = "please select one of the assets"  # a non-sftp token lands on KoKo's virtual root
CONNECTION_LOST = "connection lost"


@dataclass(frozen=True)
class Entry:
    """A directory entry as the remote SFTP server reports it (symlinks followed)."""

    name: str
    size: int
    mode: int  # st_mode
    mtime: float

    @property
    def is_dir(self) -> bool:
        """Whether the entry is a directory."""
        return stat.S_ISDIR(self.mode)


@contextlib.contextmanager
def oserror_guard() -> Iterator[None]:
    """Turns an OSError inside the block into the FileOpError KoKo would report."""
    try:
        yield
    except OSError as exc:
        raise FileOpError(error_text(exc)) from exc


@dataclass
class _StagedUpload:
    target: str  # remote path of the file the chunks become
    staged: Path


class FileVolume:
    """The asset's SFTP root for one token: listing, reading, writing, with KoKo's checks."""

    def __init__(self, grant: KokoGrant) -> None:
        self.root = FileRoot(grant.file_root)
        self.actions = frozenset(grant.actions)
        self.usable = grant.protocol == "sftp"
        # KoKo shows a root account every directory as rwx so the web UI offers uploads.
        self._root_account = grant.account_username == "root"
        self._staged: dict[int, _StagedUpload] = {}
        self._staging_dir: Path | None = None
        self.lost = False
        self.started: float | None = None
        self.last_used = 0.0

    # -- session life -------------------------------------------------------------------

    def touch(self) -> None:
        """An operation ran: the SFTP session exists and is not idle."""
        now = time.monotonic()
        self.started = self.started or now
        self.last_used = now

    def session_over(self, idle_s: float, max_s: float) -> bool:
        """Whether the SFTP session behind this volume has ended (idle or too old)."""
        if self.started is None:
            return False
        now = time.monotonic()
        if now - self.last_used >= idle_s or now - self.started >= max_s:
            self.lost = True
        return self.lost

    def _check(self, action: str | None = None) -> None:
        if self.lost:
            raise FileOpError(CONNECTION_LOST)
        if not self.usable:
            raise FileOpError(NO_ASSET)
        if action is not None and action not in self.actions:
            raise FileOpError(DENIED)

    # -- reading ------------------------------------------------------------------------

    def remote(self, path: str) -> str:
        """The remote path for a client path (sheet 8.3)."""
        return self.root.remote(path)

    def _entry(self, name: str, info: os.stat_result) -> Entry:
        mode = info.st_mode
        if self._root_account and stat.S_ISDIR(mode):
            mode |= 0o777
        return Entry(name=name, size=info.st_size, mode=mode, mtime=info.st_mtime)

    def read_dir(self, remote: str) -> list[Entry]:
        """Visible entries of a directory: dot-files hidden, links followed, broken ones dropped."""
        self._check()
        local = self.root.local(remote)
        entries = []
        with oserror_guard(), os.scandir(local) as scan:
            for item in scan:
                if item.name.startswith("."):
                    continue
                if item.is_symlink() and not self.root.inside(Path(item.path)):
                    continue  # confinement: never describe what lies outside the root
                try:
                    info = item.stat(follow_symlinks=True)
                except OSError:
                    continue  # a dangling link (KoKo skips links it cannot stat)
                entries.append(self._entry(item.name, info))
        entries.sort(key=lambda e: e.name)
        return entries

    def stat(self, remote: str) -> Entry:
        """The entry for one path (links followed)."""
        self._check()
        local = self.root.local(remote)
        with oserror_guard():
            info = local.stat()
        return self._entry(local.name if local != self.root.root else "", info)

    def open_read(self, remote: str) -> BinaryIO:
        """A file opened for reading (needs the download action)."""
        self._check("download")
        local = self.root.local(remote)
        if local.is_dir():
            raise FileOpError(FAILURE)
        with oserror_guard():
            return local.open("rb")

    def walk_files(self, remote: str) -> Iterator[tuple[str, str | None]]:
        """(relative name, remote file path) for a tree; a None path marks an empty folder."""
        seen: set[str] = set()

        def walk(directory: str, relative: str) -> Iterator[tuple[str, str | None]]:
            real = os.path.realpath(self.root.local(directory))
            if real in seen:  # a symlink loop
                return
            seen.add(real)
            entries = self.read_dir(directory)
            if not entries:
                yield relative + "/", None
            for entry in entries:
                child = f"{directory}/{entry.name}"
                name = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir:
                    yield from walk(child, name)
                else:
                    yield name, child

        yield from walk(self.root.remote(remote), "")

    def zip_dir(self, remote: str) -> Path:
        """A temporary zip of a directory tree (the caller deletes it)."""
        self._check("download")
        fd, name = tempfile.mkstemp(prefix="jsctl-koko-", suffix=".zip")
        os.close(fd)
        try:
            with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as archive:
                for relative, path in self.walk_files(remote):
                    if path is None:
                        archive.writestr(zipfile.ZipInfo(relative), b"")
                        continue
                    with self.open_read(path) as src, archive.open(relative, "w") as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
        except BaseException:
            os.unlink(name)
            raise
        return Path(name)

    # -- writing ------------------------------------------------------------------------

    def mkdir_all(self, remote: str) -> None:
        """Create a directory and its parents (an existing directory is fine)."""
        self._check("upload")
        local = self.root.local(remote)
        if local.exists():
            if not local.is_dir():
                raise FileOpError(f"mkdir {remote}: not a directory")
            return
        with oserror_guard():
            local.mkdir(parents=True)

    def create(self, remote: str) -> BinaryIO:
        """A file created (or truncated) for writing (needs the upload action)."""
        self._check("upload")
        local = self.root.local(remote)
        with oserror_guard():
            return local.open("wb")

    def write_whole(self, remote: str, data: bytes, size: int) -> None:
        """Write ``size`` bytes of ``data`` (zero-filled past its end, as KoKo's copy does)."""
        with self.create(remote) as out, oserror_guard():
            out.write(data[: max(size, 0)])
            if size > len(data):
                out.truncate(size)

    def remove(self, remote: str) -> None:
        """Remove a file, link or whole directory tree (needs the delete action)."""
        self._check("delete")
        local = self.root.local(remote, follow=False)
        if local == self.root.root or self.root.is_root(remote):
            raise FileOpError(DENIED)  # KoKo refuses to remove the SFTP root
        with oserror_guard():
            if local.is_dir() and not local.is_symlink():
                shutil.rmtree(local)
            elif local.is_symlink() or local.exists():
                local.unlink()
            else:
                raise FileOpError(NOT_EXIST)

    def rename(self, old: str, new: str) -> None:
        """Rename like OpenSSH: a file never replaces an existing name (needs upload)."""
        self._check("upload")
        source = self.root.local(old, follow=False)
        target = self.root.local(new, follow=False)
        if source == self.root.root:
            raise FileOpError(DENIED)
        if not (source.exists() or source.is_symlink()):
            raise FileOpError(NOT_EXIST)
        if not source.is_dir() and (target.exists() or target.is_symlink()):
            raise FileOpError(FAILURE)
        with oserror_guard():
            os.rename(source, target)

    # -- chunked uploads (staged outside the root, renamed into place on merge) ---------

    def _staging(self) -> Path:
        if self._staging_dir is None:
            try:  # beside the root, so the final rename stays on one filesystem
                made = tempfile.mkdtemp(prefix=".koko-uploads-", dir=self.root.root.parent)
            except OSError:
                made = tempfile.mkdtemp(prefix="jsctl-koko-uploads-")
            self._staging_dir = Path(made)
        return self._staging_dir

    def write_chunk(
        self, cid: int, remote: str, offset: int, data: bytes, length: int | None = None
    ) -> None:
        """Write one chunk of upload ``cid``; its first chunk fixes the target path.

        ``length`` (elFinder's range) zero-fills past the end of short data.
        """
        upload = self._staged.get(cid)
        if upload is None:
            self._check("upload")
            local = self.root.local(remote)
            if not local.parent.is_dir():
                raise FileOpError(NOT_EXIST)
            if local.is_dir():
                raise FileOpError(FAILURE)
            fd, name = tempfile.mkstemp(dir=self._staging())
            os.close(fd)
            upload = self._staged[cid] = _StagedUpload(target=remote, staged=Path(name))
        try:
            with oserror_guard(), upload.staged.open("r+b") as out:
                out.seek(max(offset, 0))
                out.write(data)
                end = max(offset, 0) + (length or 0)
                if end > out.seek(0, os.SEEK_END):
                    out.truncate(end)
        except FileOpError:
            self._discard(cid)  # KoKo forgets an upload whose chunk failed
            raise

    def merge_chunks(self, cid: int) -> str | None:
        """Move upload ``cid`` into place; its remote path, or None when unknown."""
        upload = self._staged.pop(cid, None)
        if upload is None:
            return None
        try:
            self._check("upload")
            target = self.root.local(upload.target)
            if target.is_dir():
                raise FileOpError(FAILURE)
            with oserror_guard():
                shutil.move(upload.staged, target)
        finally:
            upload.staged.unlink(missing_ok=True)
        return upload.target

    def _discard(self, cid: int) -> None:
        upload = self._staged.pop(cid, None)
        if upload is not None:
            upload.staged.unlink(missing_ok=True)

    def close(self) -> None:
        """Drop unfinished uploads."""
        for cid in list(self._staged):
            self._discard(cid)
        if self._staging_dir is not None:
            shutil.rmtree(self._staging_dir, ignore_errors=True)
            self._staging_dir = None
