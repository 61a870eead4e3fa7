"""Views derived from the declarations, computed on first use and kept until a source changes.

The CLI's command index and completion's spec are views of the method table (its rows' `cli=`),
the few client-only commands and the click commands they name. Deriving them imports the whole
table and every command module — too slow for `jsctl ping` or a TAB press — so each is kept as
marshal data (plain literals, nothing executed) beside the package's byte-code, or in the
user's cache when that is read-only, under a key made of the name, size and time of every
source file they come from. An edited source rebuilds the view on the next call: nothing
generated is committed, and nothing kept can disagree with the table.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # not from typing: importing typing costs a completion more than this
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_HERE = os.path.dirname(os.path.abspath(__file__))


def protocol_dir() -> str:
    """Where the method table lives."""
    import jsctl_protocol  # cheap: its names load on first use

    return os.path.dirname(jsctl_protocol.__file__)


def commands_sources() -> tuple[str, ...]:
    """What the command index comes from: the table and the client-only list."""
    return (protocol_dir(), os.path.join(_HERE, "cli", "_commands.py"))


def spec_sources() -> tuple[str, ...]:
    """What completion's spec comes from: the table, every command module, the generator."""
    return (protocol_dir(), os.path.join(_HERE, "cli"), os.path.join(_HERE, "_completion_gen.py"))


def cache_dirs() -> Iterator[str]:
    """Where views are kept, first choice first."""
    yield os.path.join(_HERE, "__pycache__")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if os.path.isabs(base):  # no home at all: never a relative `~/.cache` under the cwd
        yield os.path.join(base, "jsctl")


def fingerprint(sources: tuple[str, ...]) -> tuple[tuple[int, str, int, int], ...]:
    """Name, size and modification time of each source file, or of every Python source in
    each source directory."""
    key: list[tuple[int, str, int, int]] = []
    for index, source in enumerate(sources):
        if source.endswith(".py"):
            stat = os.stat(source)
            key.append((index, source, stat.st_size, stat.st_mtime_ns))
            continue
        with os.scandir(source) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    stat = entry.stat()
                    key.append((index, entry.name, stat.st_size, stat.st_mtime_ns))
    key.sort()
    return tuple(key)


def load(
    name: str,
    build: Callable[[], object],
    sources: tuple[str, ...],
    caches: tuple[str, ...] | None = None,
) -> object:
    """The view ``name``: the kept copy if ``sources`` are unchanged, else ``build()`` (kept)."""
    key = fingerprint(sources)
    filename = f"jsctl-{name}.{sys.implementation.cache_tag}.marshal"
    places = tuple(cache_dirs()) if caches is None else caches
    for directory in places:
        try:
            with open(os.path.join(directory, filename), "rb") as file:
                kept = marshal.loads(file.read())
        except (OSError, EOFError, ValueError, TypeError):
            continue
        if type(kept) is tuple and len(kept) == 2 and kept[0] == key:
            return kept[1]
    value = build()
    data = marshal.dumps((key, value))  # type: ignore[arg-type]
    for directory in places:
        try:
            _write(directory, filename, data)
            break
        except OSError:
            continue  # read-only install: the user's cache; neither: rebuilt next time
    return value


def _write(directory: str, filename: str, data: bytes) -> None:
    """Write atomically (processes race to keep the same view; the last rename wins)."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temporary = os.path.join(directory, f".{filename}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, os.path.join(directory, filename))
    finally:
        if os.path.exists(temporary):  # the write or the rename failed
            os.unlink(temporary)
