"""Remote paths, relative to the platform's file root (sheet 8.3), as pure functions.

Inside the daemon every remote path is normalised to an absolute path *under the file root*:
``/`` is the root itself, ``/logs/app.log`` a file below it. Backends map that to what their
API wants (the v4 API gets the real remote path, elFinder a hash of the volume path).
"""

from __future__ import annotations

import posixpath

from jsctl_protocol import quote_input

from ._errors import UnsafeOperation

__all__ = ["basename", "is_root", "join", "normalize", "parent", "relative_to", "under_root"]


def normalize(path: str) -> str:
    """``a/b/../c`` → ``/a/c``; ``""`` and ``.`` → ``/``; ``..`` above the root is refused."""
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafeOperation(f"{quote_input(path)} climbs above the file root")
            parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def is_root(path: str) -> bool:
    """True for the file root itself."""
    return normalize(path) == "/"


def join(directory: str, *names: str) -> str:
    """``directory``/``names`` (normalised)."""
    return normalize(posixpath.join(directory, *names))


def parent(path: str) -> str:
    """The containing directory (the root's parent is the root)."""
    return posixpath.dirname(normalize(path)) or "/"


def basename(path: str) -> str:
    """The last component ("" for the root)."""
    return posixpath.basename(normalize(path))


def relative_to(path: str, start: str) -> str:
    """``path`` relative to directory ``start`` (both normalised), e.g. ``../b/c``."""
    return posixpath.relpath(normalize(path), normalize(start))


def under_root(root: str, path: str) -> str:
    """The real remote path of ``path`` below the real root ``root`` (e.g. ``/tmp`` + ``/a``)."""
    rooted = normalize(path)
    base = root.rstrip("/")
    return (base + rooted) if rooted != "/" else (base or "/")
