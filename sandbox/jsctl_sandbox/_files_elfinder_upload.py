"""elFinder ``upload``: whole files, chunks (``cid`` + ``chunk`` + ``range``) and the merge.

Chunks are staged by the volume and renamed into place on merge; whole files are
copied from the spooled multipart part, so nothing large is held in memory.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

from ._files_elfinder_model import TargetError, parse_target
from ._files_elfinder_view import ElfinderRequest, VolumeView
from ._files_go import go_atoi, go_join
from ._files_paths import FileOpError
from ._files_volume import oserror_guard

__all__ = ["upload"]

_CHUNK_PART = re.compile(r"(.*?)\.([0-9][0-9]*?_[0-9][0-9]*?)(\.part)")  # name.<i>_<n>.part
_CHUNK_MERGE = re.compile(r"([0-9]*)_([0-9]*)_(.*)")  # <cid>_<n>_<name>
_FAILED = "errUploadFile"


def _atoi_or_zero(text: str) -> int:
    try:
        return go_atoi(text)
    except ValueError:
        return 0


def _destination(directory: str, upload_path: str, filename: str) -> str:
    """Where a part goes: ``upload_path[]`` may name the file, or a folder for it."""
    if filename in upload_path:
        return go_join(directory, upload_path.removeprefix("/"))
    if upload_path:
        return go_join(directory, upload_path.removeprefix("/"), filename)
    return go_join(directory, filename)


def _upload_paths(req: ElfinderRequest, count: int) -> list[str]:
    """Per-part ``upload_path[]`` (used only when there is one per part and not the target)."""
    paths = req.getlist("upload_path[]")
    if len(paths) != count:
        return [""] * count
    return ["" if p == req.get("target") else p for p in paths]


def _chunk(view: VolumeView, req: ElfinderRequest, directory: str, cid: int) -> dict[str, Any]:
    """Store one chunk; the last one announces ``_chunkmerged``. {} when malformed."""
    match = _CHUNK_PART.search(req.get("chunk"))
    ranges = req.get("range").split(",")
    if match is None or len(ranges) != 3:
        return {}  # KoKo abandons the command (no `added`, no warning)
    try:
        current, total = (go_atoi(n) for n in match[2].split("_"))
        offset, length, _total_size = (go_atoi(n) for n in ranges)
    except ValueError:
        return {}
    filename, errors = match[1], [_FAILED]
    for part, upload_path in zip(req.uploads, _upload_paths(req, len(req.uploads)), strict=True):
        path = _destination(directory, upload_path, filename)
        try:
            data = part.file.read(length)
            view.volume.write_chunk(cid, view.remote(path), offset, data, length)
        except FileOpError as exc:
            errors.append(str(exc))
    res: dict[str, Any] = {"added": []}
    if current == total:
        res.update(_chunkmerged=f"{cid}_{total}_{filename}", _name=filename)
    if len(errors) > 1:
        res["warning"] = errors
    return res


def _merge(view: VolumeView, req: ElfinderRequest, directory: str) -> dict[str, Any]:
    """Finish a chunked upload: the staged file moves into place; {} when malformed."""
    match = _CHUNK_MERGE.search(req.get("chunk"))
    if match is None:
        return {}
    upload_paths = req.getlist("upload_path[]")
    upload_path = ""
    if len(upload_paths) == 1 and upload_paths[0] != req.get("target"):
        upload_path = upload_paths[0]
    path = _destination(directory, upload_path, match[3])
    try:
        view.volume.merge_chunks(_atoi_or_zero(match[1]))
        return {"added": [view.info(path)]}
    except FileOpError:
        return {}


def _whole(view: VolumeView, req: ElfinderRequest, directory: str) -> dict[str, Any]:
    added, errors = [], [_FAILED]
    for part, upload_path in zip(req.uploads, _upload_paths(req, len(req.uploads)), strict=True):
        path = _destination(directory, upload_path, part.filename)
        try:
            with view.volume.create(view.remote(path)) as out, oserror_guard():
                shutil.copyfileobj(part.file, out, 1024 * 1024)
            added.append(view.info(path))
        except FileOpError as exc:
            errors.append(str(exc))
    res: dict[str, Any] = {"added": added}
    if len(errors) > 1:
        res["warning"] = errors
    return res


def upload(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    """``upload`` in its three forms: chunk, merge, whole files."""
    try:
        directory = parse_target(req.get("target"))
    except TargetError:
        directory = ""
    cid, chunk = _atoi_or_zero(req.get("cid")), req.get("chunk")
    if cid != 0 and chunk:
        return _chunk(view, req, directory, cid)
    if chunk:
        return _merge(view, req, directory)
    return _whole(view, req, directory)
