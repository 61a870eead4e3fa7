"""Remote-path semantics of KoKo's file APIs (sheet 8.3), confined to a local directory.

Real KoKo hands paths to the asset's own SFTP server, so nothing stops ``..`` there. This
sandbox serves the user's own disk, so every path is checked to stay inside the root,
symlinks included; a path that would leave it fails with ``permission denied``.
"""

from __future__ import annotations

import errno
import os
import posixpath
from pathlib import Path

from ._files_go import go_clean

__all__ = ["FAILURE", "FileOpError", "FileRoot", "error_text"]

# How pkg/sftp renders an SSH_FX_FAILURE status from OpenSSH's sftp-server.
FAILURE = 'sftp: "Failure" (SSH_FX_FAILURE)'
NOT_EXIST = "file does not exist"
DENIED = "permission denied"


class FileOpError(Exception):
    """A failed file operation; ``str(exc)`` is the error text KoKo would report."""


def error_text(exc: OSError) -> str:
    """The text KoKo reports for a filesystem error (pkg/sftp's normalised errors)."""
    if exc.errno == errno.ENOENT:
        return NOT_EXIST
    if exc.errno in (errno.EACCES, errno.EPERM):
        return DENIED
    return FAILURE


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class FileRoot:
    """The platform's SFTP root of one grant, as a real local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.prefix = str(self.root)

    def remote(self, path: str) -> str:
        """The remote path KoKo uses for a client path (joined under the root unless prefixed)."""
        if path and path.startswith(self.prefix):
            return go_clean(path)
        # Go trims one leading slash, then filepath.Join concatenates and cleans.
        trimmed = path[1:] if path.startswith("/") else path
        return go_clean(f"{self.prefix}/{trimmed}")

    def is_root(self, remote: str) -> bool:
        """Whether a remote path is the root itself."""
        return go_clean(remote) == self.prefix

    def local(self, remote: str, *, follow: bool = True) -> Path:
        """The local path for a remote path, refused when it leaves the root.

        ``follow`` resolves a final symlink too (reading/writing through it); without it
        only the parent is resolved, so the link itself can be removed or renamed.
        """
        path = go_clean(remote)
        if not _within(path, self.prefix):
            raise FileOpError(DENIED)
        if path == self.prefix:
            return self.root
        if follow:
            real = os.path.realpath(path)
        else:
            real = posixpath.join(
                os.path.realpath(posixpath.dirname(path)), posixpath.basename(path)
            )
        if not _within(real, self.prefix):
            raise FileOpError(DENIED)
        return Path(real)

    def inside(self, local: Path) -> bool:
        """Whether an existing local path (after resolving links) is inside the root."""
        return _within(os.path.realpath(local), self.prefix)
