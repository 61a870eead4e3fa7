"""What can go wrong with remote files, as exceptions the RPC layer maps to error codes."""

from __future__ import annotations

__all__ = [
    "FileError",
    "FileExists",
    "FileNotFound",
    "FilePermissionDenied",
    "FileSessionLimit",
    "FileSessionLost",
    "TransferFailed",
    "UnsafeOperation",
]


class FileError(Exception):
    """A file operation failed; ``str(exc)`` is a sentence a person can act on."""


class FileNotFound(FileError):
    """The remote (or local) path does not exist."""


class FileExists(FileError):
    """The destination exists and overwriting was not asked for."""


class FilePermissionDenied(FileError):
    """The server (or local filesystem) refused: missing upload/download/delete permission."""


class UnsafeOperation(FileError):
    """A safety gate refused the operation (recursive delete of the root, missing -r…)."""


class TransferFailed(FileError):
    """A transfer broke or did not verify; nothing was left under the final name."""


class FileSessionLost(FileError):
    """The KoKo file session ended (dropped socket, CLOSE, expired); a retry opens a new one."""


class FileSessionLimit(FileError):
    """Too many file sessions are busy at once."""


def remote_error(action: str, path: str, text: str) -> FileError:
    """The exception for a server's error text (KoKo passes SFTP errors through as text)."""
    lowered = text.lower()
    where = f"{action} {path}: {text}"
    if "not exist" in lowered or "no such file" in lowered or "not found" in lowered:
        return FileNotFound(f"{path} does not exist on the remote side ({text})")
    if "permission denied" in lowered or "errperm" in lowered or "access" in lowered:
        return FilePermissionDenied(
            f"{where} — the account lacks the permission (upload, download or delete) "
            "or the remote filesystem refused"
        )
    if "exist" in lowered:
        return FileExists(f"{path} already exists ({text})")
    return FileError(where)
