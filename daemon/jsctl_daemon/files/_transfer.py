"""Streaming transfers between local files and a file backend, never leaving partial files.

Uploads go to ``<name>.jsctl-<hex>.part`` next to the target, are checked for size, then
renamed into place; downloads go to ``.<name>.jsctl-<hex>.part`` locally, are checked, then
linked (no-clobber) or replaced (``force``) into place. A failure or cancellation removes the
temporary file. Bytes are hashed on the way (SHA-256) and reported with the result.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import trio

from ._backend import FileBackend, RemoteEntry
from ._errors import (
    FileError,
    FileExists,
    FileNotFound,
    FilePermissionDenied,
    TransferFailed,
)
from ._paths import basename, is_root, join, parent
from ._progress import Progress

__all__ = [
    "TransferResult",
    "download_file",
    "local_error",
    "local_kind",
    "stat",
    "upload_file",
]

CLEANUP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TransferResult:
    """One file moved: where from, where to, how many bytes, their SHA-256."""

    source: str
    target: str
    size: int
    sha256: str

    def to_wire(self) -> dict[str, Any]:
        """The RPC shape."""
        return {
            "source": self.source,
            "target": self.target,
            "size": self.size,
            "sha256": self.sha256,
        }


async def stat(backend: FileBackend, path: str) -> RemoteEntry | None:
    """The entry at ``path`` (listing its parent), or None when absent."""
    if is_root(path):
        return RemoteEntry(name="", is_dir=True, size=0)
    try:
        entries = await backend.list(parent(path))
    except FileNotFound:
        return None
    name = basename(path)
    return next((entry for entry in entries if entry.name == name), None)


def local_error(exc: OSError, path: Path) -> FileError:
    """A local filesystem error as a sentence."""
    if isinstance(exc, PermissionError):
        return FilePermissionDenied(f"cannot access {path} locally: permission denied")
    if isinstance(exc, FileNotFoundError):
        return FileNotFound(f"{path} does not exist locally")
    if isinstance(exc, FileExistsError):
        return FileExists(f"{path} already exists locally; use --force to overwrite")
    return FileError(f"{path}: {exc.strerror or exc}")


def local_kind(path: Path) -> str | None:
    """ "dir", "file" or None (absent) for a local path (a quick metadata call)."""
    if path.is_dir():
        return "dir"
    return "file" if path.exists() else None


def _open_for_reading(path: Path) -> tuple[BinaryIO, int]:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError as exc:
        raise local_error(exc, path) from None
    return handle, os.fstat(handle.fileno()).st_size


def _part_name(name: str) -> str:
    return f"{name}.jsctl-{secrets.token_hex(4)}.part"


async def _quietly(action: Any) -> None:
    """Best-effort cleanup that survives cancellation of the operation it cleans up after."""
    with (
        trio.CancelScope(shield=True),
        trio.move_on_after(CLEANUP_TIMEOUT_S),
        contextlib.suppress(FileError, OSError),
    ):
        await action()


async def upload_file(
    backend: FileBackend, local: Path, remote: str, *, force: bool, progress: Progress
) -> TransferResult:
    """Upload one local file to ``remote`` via a temporary name and a rename."""
    handle, size = _open_for_reading(local)
    digest = hashlib.sha256()
    temp = join(parent(remote), _part_name(basename(remote)))
    progress.current = remote
    try:

        async def read(count: int) -> bytes:
            data: bytes = await trio.to_thread.run_sync(handle.read, count)
            digest.update(data)
            await progress.tick()
            return data

        existing = await stat(backend, remote)
        if existing is not None and (existing.is_dir or not force):
            what = "a directory" if existing.is_dir else "a file"
            raise FileExists(f"{remote} already exists as {what} on the asset; use --force")
        try:
            await backend.upload(temp, size, read, progress.advance)
            written = await stat(backend, temp)
            if written is None or written.size != size:
                got = "nothing" if written is None else f"{written.size} bytes"
                raise TransferFailed(f"uploading {local} wrote {got} instead of {size} bytes")
            await _place(backend, temp, remote, replace=existing is not None)
        except BaseException:
            await _quietly(lambda: backend.remove(temp))
            raise
    finally:
        handle.close()
    await progress.file_done(remote)
    return TransferResult(str(local), remote, size, digest.hexdigest())


async def _place(backend: FileBackend, temp: str, remote: str, *, replace: bool) -> None:
    """Rename ``temp`` to ``remote``; with ``replace`` the old file steps aside until done."""
    if not replace:
        await backend.rename(temp, remote)
        return
    aside = join(parent(remote), _part_name(basename(remote)) + ".old")
    await backend.rename(remote, aside)
    try:
        await backend.rename(temp, remote)
    except BaseException:
        await _quietly(lambda: backend.rename(aside, remote))
        raise
    await _quietly(lambda: backend.remove(aside))


async def download_file(
    backend: FileBackend,
    remote: str,
    entry: RemoteEntry,
    local: Path,
    *,
    force: bool,
    progress: Progress,
) -> TransferResult:
    """Download one remote file into ``local`` via a hidden temporary file and a rename."""
    kind = local_kind(local)
    if kind is not None and (kind == "dir" or not force):
        what = "a directory" if kind == "dir" else "a file"
        raise FileExists(f"{local} already exists as {what}; use --force to overwrite")
    temp = local.parent / ("." + _part_name(local.name))
    digest = hashlib.sha256()
    received = 0
    progress.current = remote
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise local_error(exc, local) from None
    try:
        with os.fdopen(fd, "wb") as sink:
            async with backend.download(remote) as chunks:
                async for data in chunks:
                    await trio.to_thread.run_sync(sink.write, data)
                    digest.update(data)
                    received += len(data)
                    progress.advance(len(data))
                    await progress.tick()
            await trio.to_thread.run_sync(os.fsync, sink.fileno())
        if received != entry.size:
            raise TransferFailed(
                f"downloading {remote} gave {received} bytes, the server listed {entry.size}"
            )
        _commit_local(temp, local, force=force)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    await progress.file_done(str(local))
    return TransferResult(remote, str(local), received, digest.hexdigest())


def _commit_local(temp: Path, local: Path, *, force: bool) -> None:
    try:
        if force:
            os.replace(temp, local)
        else:
            os.link(temp, local)  # fails if something appeared under the name meanwhile
            temp.unlink()
    except OSError as exc:
        raise local_error(exc, local) from None
