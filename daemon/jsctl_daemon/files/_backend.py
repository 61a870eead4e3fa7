"""The surface both file APIs (v4 ``/koko/ws/sftp/`` and elFinder) offer the transfer layer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import trio

__all__ = ["ChunkSource", "FileBackend", "RemoteEntry"]

# Returns the next bytes of a local file to upload (b"" at the end).
ChunkSource = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class RemoteEntry:
    """One remote directory entry, whichever API listed it."""

    name: str
    is_dir: bool
    size: int
    mtime: float | None = None
    mode: str = ""  # ls-style permission string when the server gives one

    def to_wire(self, path: str) -> dict[str, Any]:
        """The RPC shape of this entry at remote ``path``."""
        return {
            "name": self.name,
            "path": path,
            "type": "dir" if self.is_dir else "file",
            "size": self.size,
            "mtime": self.mtime,
            "mode": self.mode,
        }


class FileBackend(Protocol):
    """A live file session on one asset; paths are normalised and relative to the file root."""

    kind: str  # "sftp" (v4 JSON API) or "elfinder"
    root: str  # the file root as the server names it (for display), e.g. "/tmp"
    ended: trio.Event  # set when the session is over

    @property
    def closed(self) -> str | None:
        """Why the session ended, once it has."""
        ...

    async def list(self, path: str) -> list[RemoteEntry]:
        """The entries of directory ``path`` (hidden dot-files may be omitted by the server)."""
        ...

    async def mkdir(self, path: str) -> None:
        """Create directory ``path`` (parents too where the server does that)."""
        ...

    async def remove(self, path: str) -> None:
        """Remove a file or directory."""
        ...

    async def rename(self, path: str, new_path: str) -> None:
        """Move ``path`` to ``new_path`` (which must not exist)."""
        ...

    def download(self, path: str) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """The file's bytes, in order, as they arrive."""
        ...

    async def upload(
        self, path: str, size: int, read: ChunkSource, progress: Callable[[int], None]
    ) -> None:
        """Write ``size`` bytes from ``read`` to ``path``; ``progress(n)`` after each chunk."""
        ...

    async def aclose(self) -> None:
        """End the session."""
        ...
