"""Remote files over 443: KoKo's v4 ``/koko/ws/sftp/`` API, or elFinder where that is absent.

Public surface: :class:`FileSessionManager` (``daemon.files``: pooled, idle-reaped, capped
sessions), :class:`KokoFileOpener`, :class:`FileKey`, the operations in ``ops`` (list, stat,
mkdir, remove, move, copy in/out with their safety gates) and the :class:`FileError` family.
Remote paths are relative to the platform's file root (sheet 8.3).
"""

from __future__ import annotations

from . import _ops as ops
from ._backend import FileBackend, RemoteEntry
from ._errors import (
    FileError,
    FileExists,
    FileNotFound,
    FilePermissionDenied,
    FileSessionLimit,
    FileSessionLost,
    TransferFailed,
    UnsafeOperation,
)
from ._manager import FileLimits, FileSessionManager
from ._open import FileKey, KokoFileOpener
from ._paths import normalize
from ._settings import FileSettings
from ._transfer import TransferResult, stat

__all__ = [
    "FileBackend",
    "FileError",
    "FileExists",
    "FileKey",
    "FileLimits",
    "FileNotFound",
    "FilePermissionDenied",
    "FileSessionLimit",
    "FileSessionLost",
    "FileSessionManager",
    "FileSettings",
    "KokoFileOpener",
    "RemoteEntry",
    "TransferFailed",
    "TransferResult",
    "UnsafeOperation",
    "normalize",
    "ops",
    "stat",
]
