"""elFinder ``paste`` (copy/cut) and ``duplicate``, file by file as KoKo's connector does."""

from __future__ import annotations

import time
from typing import Any

from ._files_elfinder_model import TargetError, parse_target
from ._files_elfinder_view import ElfinderRequest, VolumeView
from ._files_go import go_dir, go_ext, go_join
from ._files_paths import FileOpError

__all__ = ["duplicate", "paste"]

_ERROR = "error"  # elFinder's generic error code, followed by the text


def _copy_folder(view: VolumeView, destination: str, source: str, suffix: str) -> list[Any]:
    """Copy a folder's visible contents (errors skip an item, a failed mkdir stops)."""
    added: list[Any] = []
    for item in view.listing(source):
        child = go_join(source, item["name"])
        if item.get("dirs") == 1:
            try:
                made = view.make_dir(destination, item["name"])
            except FileOpError:
                break
            added.append(made)
            added += _copy_folder(view, go_join(destination, made["name"]), child, suffix)
            continue
        try:
            reader = view.volume.open_read(view.remote(child))
            added.append(view.paste_file(destination, item["name"], suffix, reader))
        except FileOpError:
            continue
    return added


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _copy_one(view: VolumeView, source: str, destination: str, name: str, suffix: str) -> list[Any]:
    """Copy one file or folder to ``destination/name`` (raises FileOpError)."""
    info = view.info(source)
    if info.get("dirs") != 1:
        reader = view.volume.open_read(view.remote(source))
        return [view.paste_file(destination, name, suffix, reader)]
    if _inside(view.remote(destination), view.remote(source)):
        # KoKo would recurse forever copying a folder into itself; refuse instead.
        raise FileOpError("errCopyInItself")
    made = view.make_dir(destination, name)
    return [made, *_copy_folder(view, go_join(destination, made["name"]), source, suffix)]


def paste(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    """Copy (or with ``cut=1`` move) ``targets[]`` into ``dst``."""
    try:
        destination = parse_target(req.get("dst"))
    except TargetError as exc:
        return {"error": exc.index}
    suffix, added, removed = req.get("suffix"), [], []
    res: dict[str, Any] = {}
    for target in req.targets():
        try:
            source = parse_target(target)
            info = view.info(source)
        except (TargetError, FileOpError):
            continue
        name = info["name"]
        if info.get("dirs") == 1 and any(
            i.get("dirs") == 1 and i["name"] == name for i in view.listing(destination)
        ):
            name += suffix
        try:
            added += _copy_one(view, source, destination, name, suffix)
        except FileOpError as exc:
            res["error"] = [_ERROR, str(exc)]
            break
        if req.flag("cut"):
            try:
                view.remove(source)
                removed.append(target)
            except FileOpError as exc:
                res["error"] = [_ERROR, str(exc)]
    return {**res, "added": added, "removed": removed}


def _duplicate_name(name: str) -> str:
    ext = go_ext(name)
    stamp = time.strftime("%Y-%m-%d-%H-%M-%S")
    return f"{name[: len(name) - len(ext)]}_duplicate_{stamp}{ext}"


def duplicate(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    """Copy each of ``targets[]`` beside itself as ``<name>_duplicate_<time><ext>``."""
    added: list[Any] = []
    res: dict[str, Any] = {}
    for target in req.targets():
        try:
            source = parse_target(target)
            info = view.info(source)
        except (TargetError, FileOpError):
            continue
        try:
            name = _duplicate_name(info["name"])
            added += _copy_one(view, source, go_dir(source), name, "_duplicate_")
        except FileOpError as exc:
            res["error"] = [_ERROR, str(exc)]
            break
    return {**res, "added": added}
