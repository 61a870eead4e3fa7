"""elFinder ``zipdl``: zip the targets into a temporary file, then download it by key."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._files_elfinder_model import TargetError, parse_target
from ._files_elfinder_view import Download, ElfinderRequest, VolumeView
from ._files_go import go_dir, go_join
from ._files_paths import FileOpError

__all__ = ["zipdl"]

ZIP_MAX_SIZE = 1024**3  # KoKo's default ZipMaxSize
_ARC_MAX_SIZE = "errArcMaxSize"


def _tree_size(view: VolumeView, path: str) -> int:
    total = 0
    for item in view.listing(path):
        if item.get("dirs") == 1:
            total += _tree_size(view, go_join(path, item["name"]))
        total += item.get("size", 0)
    return total


def _add_file(view: VolumeView, archive: zipfile.ZipFile, path: str, name: str) -> None:
    with view.volume.open_read(view.remote(path)) as src, archive.open(name, "w") as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)


def _add_folder(view: VolumeView, archive: zipfile.ZipFile, base: str, folder: str) -> None:
    """Files under ``folder`` named relative to ``base`` (empty folders are left out)."""
    for item in view.listing(folder):
        path = go_join(folder, item["name"])
        if item.get("dirs") == 1:
            _add_folder(view, archive, base, path)
        else:
            _add_file(view, archive, path, path.removeprefix(base.rstrip("/") + "/"))


def _build(view: VolumeView, paths: list[str]) -> dict[str, Any]:
    infos = []
    for path in paths:
        with contextlib.suppress(FileOpError):
            infos.append((path, view.info(path)))
    total = sum(_tree_size(view, p) if i.get("dirs") == 1 else i.get("size", 0) for p, i in infos)
    if total >= ZIP_MAX_SIZE:
        return {"error": _ARC_MAX_SIZE}
    seed = f"{time.time_ns() % 10**9}{''.join(paths)}".encode()
    key = hashlib.md5(seed).hexdigest()
    name = f"{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}{key}.zip"
    fd, archive_path = tempfile.mkstemp(prefix="jsctl-koko-zipdl-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, info in infos:
                if info.get("dirs") == 1:
                    _add_folder(view, archive, go_dir(path), path)
                else:
                    _add_file(view, archive, path, info["name"])
    except (FileOpError, OSError) as exc:
        os.unlink(archive_path)
        return {"error": str(exc)}
    view.archives[key] = Path(archive_path)
    return {"zipdl": {"mime": "application/zip", "file": key, "name": name}}


def zipdl(view: VolumeView, req: ElfinderRequest) -> dict[str, Any] | Download:
    """First call zips ``targets[]``; ``download=1`` with ``[_, key, name, mime]`` fetches it."""
    targets = req.targets()
    if req.get("download") != "1":
        paths = []
        for target in targets:
            with contextlib.suppress(TargetError):
                paths.append(parse_target(target))
        return _build(view, paths)
    key, filename, mime = targets[1:4] if len(targets) == 4 else ("", "", "")
    archive = view.archives.pop(key, None)
    if archive is None:
        return {}
    reader = archive.open("rb")
    archive.unlink()  # the open reader keeps the data until it is closed
    return Download(reader, filename, attachment=True, media_type=mime)
