"""File operations with their safety gates: list, stat, mkdir, remove, move, copy in and out.

Copies follow ``cp``: a destination that is an existing directory (or ends with ``/``)
receives the sources by their names; directories need ``recursive``; existing files need
``force``. Copies are planned first (walk, sizes, conflicts), so a gate fails before any byte
moves and progress knows its total.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ._backend import FileBackend, RemoteEntry
from ._errors import FileExists, FileNotFound, UnsafeOperation
from ._paths import basename, is_root, join, normalize, parent
from ._progress import Progress, Push
from ._transfer import TransferResult, download_file, local_error, local_kind, stat, upload_file

__all__ = [
    "copy_in",
    "copy_out",
    "join",
    "list_path",
    "make_directory",
    "move",
    "remove",
    "stat",
]


@dataclass(frozen=True)
class _Step:
    """One planned step: make a directory, or move one file of ``size`` bytes."""

    local: Path
    remote: str
    is_dir: bool
    size: int = 0
    entry: RemoteEntry | None = None


async def list_path(backend: FileBackend, path: str) -> tuple[RemoteEntry, list[RemoteEntry]]:
    """``path``'s own entry and, for a directory, its children sorted by name."""
    entry = await stat(backend, path)
    if entry is None:
        raise FileNotFound(f"{path} does not exist on the asset")
    if not entry.is_dir:
        return entry, [entry]
    return entry, sorted(await backend.list(path), key=lambda e: e.name)


async def make_directory(backend: FileBackend, path: str, *, parents: bool) -> bool:
    """Create ``path``; True if created, False if it existed (only allowed with ``parents``)."""
    path = normalize(path)
    existing = await stat(backend, path)
    if existing is not None:
        if parents and existing.is_dir:
            return False
        raise FileExists(f"{path} already exists on the asset")
    if not parents:
        above = await stat(backend, parent(path))
        if above is None or not above.is_dir:
            raise FileNotFound(f"{parent(path)} does not exist on the asset; use -p")
    await backend.mkdir(path)
    return True


async def remove(backend: FileBackend, path: str, *, recursive: bool) -> int:
    """Remove a file, or with ``recursive`` a directory tree; answers how many entries went."""
    if is_root(path):
        raise UnsafeOperation("refusing to remove the file root itself")
    entry = await stat(backend, path)
    if entry is None:
        raise FileNotFound(f"{path} does not exist on the asset")
    if entry.is_dir and not recursive:
        raise UnsafeOperation(f"{path} is a directory; use -r to remove it and its contents")
    return await _remove_tree(backend, normalize(path), entry.is_dir)


async def _remove_tree(backend: FileBackend, path: str, is_dir: bool) -> int:
    removed = 0
    if is_dir:
        for child in await backend.list(path):
            removed += await _remove_tree(backend, join(path, child.name), child.is_dir)
    await backend.remove(path)
    return removed + 1


async def move(backend: FileBackend, source: str, target: str, *, force: bool) -> str:
    """Rename ``source`` to ``target`` (into it when it is a directory); the final path."""
    if is_root(source):
        raise UnsafeOperation("refusing to move the file root itself")
    if await stat(backend, source) is None:
        raise FileNotFound(f"{source} does not exist on the asset")
    existing = await stat(backend, target)
    if existing is not None and existing.is_dir:
        target = join(target, basename(source))
        existing = await stat(backend, target)
    target = normalize(target)
    if existing is not None:
        if existing.is_dir or not force:
            raise FileExists(f"{target} already exists on the asset; use --force")
        await backend.remove(target)
    await backend.rename(normalize(source), target)
    return target


# --- copies -----------------------------------------------------------------------------------


def _into(dest_is_dir: bool, dest_text: str, count: int) -> bool:
    """Whether sources go *into* the destination (cp's rule) rather than onto its name."""
    if (count > 1 or dest_text.endswith("/")) and not dest_is_dir:
        raise FileNotFound(f"{dest_text} is not an existing directory")
    return dest_is_dir


def _walk_local(root: Path, remote: str, steps: list[_Step]) -> None:
    try:
        children = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        raise local_error(exc, root) from None
    for child in children:
        path, target = Path(child.path), join(remote, child.name)
        if child.is_dir(follow_symlinks=False):
            steps.append(_Step(path, target, True))
            _walk_local(path, target, steps)
        elif child.is_file():
            steps.append(_Step(path, target, False, child.stat().st_size))


def _plan_in(sources: list[Path], dest: str, into: bool, recursive: bool) -> list[_Step]:
    steps: list[_Step] = []
    for source in sources:
        kind = local_kind(source)
        if kind is None:
            raise FileNotFound(f"{source} does not exist locally")
        target = join(dest, source.name) if into else normalize(dest)
        if kind == "dir":
            if not recursive:
                raise UnsafeOperation(f"{source} is a directory; use -r to copy it")
            steps.append(_Step(source, target, True))
            _walk_local(source, target, steps)
        else:
            steps.append(_Step(source, target, False, source.stat().st_size))
    return steps


async def copy_in(
    backend: FileBackend,
    sources: list[Path],
    dest: str,
    *,
    recursive: bool,
    force: bool,
    push: Push | None,
) -> list[TransferResult]:
    """Upload local files (and with ``recursive`` directories) to ``dest`` on the asset."""
    found = await stat(backend, dest)
    steps = _plan_in(
        sources, dest, _into(bool(found and found.is_dir), dest, len(sources)), recursive
    )
    await _check_remote_conflicts(backend, steps, force)
    progress = Progress(push, sum(s.size for s in steps), sum(not s.is_dir for s in steps))
    results = []
    for step in steps:
        if step.is_dir:
            await make_directory(backend, step.remote, parents=True)
        else:
            results.append(
                await upload_file(backend, step.local, step.remote, force=force, progress=progress)
            )
    await progress.tick(force=True)
    return results


async def _check_remote_conflicts(backend: FileBackend, steps: list[_Step], force: bool) -> None:
    listings: dict[str, dict[str, RemoteEntry]] = {}
    for step in steps:
        folder = parent(step.remote)
        if folder not in listings:
            try:
                listings[folder] = {e.name: e for e in await backend.list(folder)}
            except FileNotFound:
                listings[folder] = {}
        existing = listings[folder].get(basename(step.remote))
        if existing is None:
            continue
        if step.is_dir != existing.is_dir:
            kind = "a directory" if existing.is_dir else "a file"
            raise FileExists(f"{step.remote} already exists on the asset as {kind}")
        if not step.is_dir and not force:
            raise FileExists(f"{step.remote} already exists on the asset; use --force")


async def _walk_remote(backend: FileBackend, remote: str, local: Path, steps: list[_Step]) -> None:
    for child in sorted(await backend.list(remote), key=lambda e: e.name):
        source, target = join(remote, child.name), local / child.name
        steps.append(_Step(target, source, child.is_dir, child.size, child))
        if child.is_dir:
            await _walk_remote(backend, source, target, steps)


async def _plan_out(
    backend: FileBackend, sources: list[str], dest: Path, into: bool, recursive: bool
) -> list[_Step]:
    steps: list[_Step] = []
    for source in sources:
        entry = await stat(backend, source)
        if entry is None:
            raise FileNotFound(f"{source} does not exist on the asset")
        name = basename(source) or "root"
        target = dest / name if into else dest
        if entry.is_dir:
            if not recursive:
                raise UnsafeOperation(f"{source} is a directory; use -r to copy it")
            steps.append(_Step(target, normalize(source), True, 0, entry))
            await _walk_remote(backend, normalize(source), target, steps)
        else:
            steps.append(_Step(target, normalize(source), False, entry.size, entry))
    return steps


def _check_local_conflicts(steps: list[_Step], force: bool) -> None:
    for step in steps:
        kind = local_kind(step.local)
        if kind is None:
            continue
        if step.is_dir != (kind == "dir"):
            raise FileExists(f"{step.local} already exists locally as a {kind}")
        if not step.is_dir and not force:
            raise FileExists(f"{step.local} already exists locally; use --force to overwrite")


async def copy_out(
    backend: FileBackend,
    sources: list[str],
    dest_text: str,
    *,
    recursive: bool,
    force: bool,
    push: Push | None,
) -> list[TransferResult]:
    """Download remote files (and with ``recursive`` directories) to local ``dest_text``."""
    dest = Path(dest_text)
    into = _into(local_kind(dest) == "dir", dest_text, len(sources))
    steps = await _plan_out(backend, sources, dest, into, recursive)
    _check_local_conflicts(steps, force)
    progress = Progress(push, sum(s.size for s in steps), sum(not s.is_dir for s in steps))
    results = []
    for step in steps:
        if step.is_dir:
            _make_local_dir(step.local)
        else:
            assert step.entry is not None
            results.append(
                await download_file(
                    backend, step.remote, step.entry, step.local, force=force, progress=progress
                )
            )
    await progress.tick(force=True)
    return results


def _make_local_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise local_error(exc, path) from None
