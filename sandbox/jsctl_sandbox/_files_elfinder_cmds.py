"""elFinder connector commands over a :class:`FileVolume` (blocking; run in a worker thread).

Each command returns a response dict for ``render`` (or a download / no-content marker),
with the answers, error arrays and oddities of KoKo's Go connector (sheet 8.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._files_elfinder_copy import duplicate, paste
from ._files_elfinder_model import (
    API_VERSION,
    INIT_OPTIONS,
    UPLOAD_MAX_SIZE,
    TargetError,
    parse_target,
)
from ._files_elfinder_upload import upload
from ._files_elfinder_view import Download, ElfinderRequest, Forbidden, NoContent, VolumeView
from ._files_elfinder_zip import zipdl
from ._files_go import go_base, go_dir, go_join
from ._files_paths import FileOpError

__all__ = ["Reply", "run_command"]

Reply = dict[str, Any] | Download | NoContent | Forbidden


Command = Callable[[VolumeView, ElfinderRequest], Reply]


def _open(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    try:
        path = parse_target(req.get("target"))
        cwd = view.root() if path in ("", "/") else view.info(path)
    except (TargetError, FileOpError) as exc:
        return {"error": ["errAccess", str(exc)]}
    res: dict[str, Any] = {"cwd": cwd, "files": [*view.listing(path), cwd]}
    if req.flag("init"):
        res.update(api=API_VERSION, uplMaxSize=UPLOAD_MAX_SIZE, options=dict(INIT_OPTIONS))
    if req.flag("tree"):
        res["tree"] = []
        res["files"] += [view.root(), *view.parents(path)]
    return res


def _path_or_root(target: str) -> str:
    try:
        return parse_target(target)
    except TargetError:
        return ""


def _ls(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    items = view.listing(_path_or_root(req.get("target")))
    wanted = req.getlist("intersect[]")
    if "intersect[]" in req.values:
        pairs = [(i, w) for i in items for w in wanted if i["name"] == w]
        items = [i for i, _ in pairs]
    return {"list": [f'"{i["hash"]}";"{i["name"]}"' for i in items]}


def _tree(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    try:
        path = parse_target(req.get("target"))
    except TargetError as exc:
        return {"error": exc.index}  # Go encodes the error value itself: a number
    return {"tree": [i for i in view.listing(path) if i.get("dirs") == 1]}


def _parents(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    try:
        path = parse_target(req.get("target"))
    except TargetError as exc:
        return {"error": exc.index}
    return {"tree": view.parents(path)}


def _mkdir(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    name = req.get("name")
    added: list[dict[str, Any]] = []
    hashes: dict[str, str] = {}
    try:
        path = parse_target(req.get("target"))
        if name:
            added.append(view.make_dir(path, name))
    except (TargetError, FileOpError) as exc:
        return {"error": ["errMkdir", name, str(exc)]}
    res: dict[str, Any] = {}
    for each in req.getlist("dirs[]"):
        try:
            added.append(view.make_dir(path, each))
        except FileOpError as exc:
            res["error"] = ["errMkdir", name, str(exc)]
            break
        hashes[each] = each
    return {**res, "added": added, "hashes": hashes}


def _mkfile(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    name = req.get("name")
    try:
        directory = parse_target(req.get("target"))
        path = go_join(directory, name)
        view.volume.create(view.remote(path)).close()
        return {"added": [view.child(directory, view.volume.stat(view.remote(path)))]}
    except (TargetError, FileOpError) as exc:
        return {"error": ["errMkfile", name, str(exc)]}


def _rename(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    name, target = req.get("name"), req.get("target")
    try:
        path = parse_target(target)
        new = go_join(go_dir(path), name)
        view.volume.rename(view.remote(path), view.remote(new))
        return {"added": [view.info(new)], "removed": [target]}
    except (TargetError, FileOpError):
        return {"error": ["errRename", name]}


def _rm(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    removed, errors = [], []
    for target in req.targets():
        try:
            view.remove(parse_target(target))
        except TargetError:
            continue
        except FileOpError as exc:
            errors += ["errRm", str(exc)]
            continue
        removed.append(target)
    return {"removed": removed, "error": errors or None}


def _folder_size(view: VolumeView, path: str) -> int:
    total = 0
    for item in view.listing(path):
        if item.get("dirs") == 1:
            total += _folder_size(view, go_join(path, item["name"]))
        total += item.get("size", 0)
    return total


def _size(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    targets = req.targets()
    if not targets:  # jQuery-style indexed keys, as KoKo's connector also accepts
        for index in range(100):
            value = req.get(f"targets[{index}]")
            if not value:
                break
            targets.append(value)
    total = 0
    for target in targets:
        try:
            path = parse_target(target)
            info = view.info(path)
        except (TargetError, FileOpError):
            continue
        total += _folder_size(view, path) if info.get("dirs") == 1 else info.get("size", 0)
    return {"size": total}


def _search(view: VolumeView, req: ElfinderRequest) -> dict[str, Any]:
    # In token mode KoKo's search (which looks for assets, not files) fails with an
    # error value that Go encodes as an empty object.
    return {"files": [], "error": {}}


def _file(view: VolumeView, req: ElfinderRequest) -> Download | Forbidden:
    try:
        path = parse_target(req.get("target"))
        reader = view.volume.open_read(view.remote(path))
    except (TargetError, FileOpError) as exc:
        return Forbidden(str(exc))
    return Download(reader, go_base(path), attachment="download" in req.values)


def _abort(view: VolumeView, req: ElfinderRequest) -> NoContent:
    return NoContent()


def run_command(view: VolumeView, req: ElfinderRequest) -> Reply:
    """Run ``cmd``; unknown commands answer ``errUnknownCmd``."""
    commands: dict[str, Command] = {
        "open": _open,
        "ls": _ls,
        "tree": _tree,
        "parents": _parents,
        "mkdir": _mkdir,
        "mkfile": _mkfile,
        "rename": _rename,
        "rm": _rm,
        "size": _size,
        "search": _search,
        "file": _file,
        "abort": _abort,
        "upload": upload,
        "paste": paste,
        "duplicate": duplicate,
        "zipdl": zipdl,
    }
    command = commands.get(req.get("cmd"))
    if command is None:
        return {"error": "errUnknownCmd"}
    return command(view, req)
