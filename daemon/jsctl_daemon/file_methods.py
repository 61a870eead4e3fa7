"""Handlers for files.* methods: resolve the asset, borrow a file session, run the operation.

Every operation lands in the audit log with its outcome (bytes and files for transfers).
Local paths come from the caller as absolute paths: the daemon runs as the same user on the
same machine and reads or writes them itself, so file bytes never cross the RPC socket.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from jsctl_protocol import ErrorCode, RpcError, quote_input

from .audit import AuditLog
from .file_access import FileAccess
from .files import FileBackend, FileSessionManager, TransferResult, normalize
from .files import ops as file_ops
from .files._paths import under_root
from .rpc import HANDLERS, CallContext, Push

_Source = TypeVar("_Source", Path, str)


def _shell(backend: FileBackend, path: str) -> str:
    """The absolute path the asset's shell sees for ``path`` (given below the file root).

    KoKo's SFTP root is a real directory on the asset (the platform's ``sftp_home``, ``/tmp``
    by default): ``/a.txt`` below it is ``/tmp/a.txt`` for the shell.
    """
    return under_root(backend.root, path) if backend.root.startswith("/") else path


def _from_shell(backend: FileBackend, path: str) -> str:
    """``path`` below the file root, also when given as the shell sees it (as KoKo takes it)."""
    root = backend.root.rstrip("/")
    if root.startswith("/") and (path == root or path.startswith(root + "/")):
        return normalize(path[len(root) :] or "/")
    return path


def _entry(backend: FileBackend, entry: Any, path: str) -> dict[str, Any]:
    wire: dict[str, Any] = entry.to_wire(path)
    wire["shell_path"] = _shell(backend, path)
    return wire


def _absolute(path: Any) -> str:
    if not isinstance(path, str) or not os.path.isabs(path):
        raise RpcError(
            ErrorCode.BAD_PARAMS, f"local paths must be absolute (the daemon reads them): {path!r}"
        )
    return path


@HANDLERS.handler("files.list")
async def files_list(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """A directory's entries (or a file's own entry)."""
    path = normalize(params.get("path") or "/")
    async with file_access.session(ctx, params, "files.list", path=path) as (
        session_id,
        backend,
        _,
    ):
        path = _from_shell(backend, path)
        entry, entries = await file_ops.list_path(backend, path)
        in_dir = entry.is_dir
        return {
            "session": session_id,
            "api": backend.kind,
            "root": backend.root,
            "path": path,
            "shell_path": _shell(backend, path),
            "entry": _entry(backend, entry, path),
            "entries": [
                _entry(backend, e, file_ops.join(path, e.name) if in_dir else path) for e in entries
            ],
        }


@HANDLERS.handler("files.stat")
async def files_stat(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """One entry."""
    path = normalize(params["path"])
    async with file_access.session(ctx, params, "files.stat", path=path) as (_, backend, _outcome):
        path = _from_shell(backend, path)
        entry = await file_ops.stat(backend, path)
        if entry is None:
            shown = _shell(backend, path)
            raise RpcError(ErrorCode.NOT_FOUND, f"{shown} does not exist on {params['asset']}")
        return {"entry": _entry(backend, entry, path), "root": backend.root, "api": backend.kind}


@HANDLERS.handler("files.mkdir")
async def files_mkdir(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """Make a directory."""
    path = normalize(params["path"])
    async with file_access.session(ctx, params, "files.mkdir", path=path) as (_, backend, _outcome):
        path = _from_shell(backend, path)
        created = await file_ops.make_directory(backend, path, parents=bool(params.get("parents")))
        return {"path": path, "shell_path": _shell(backend, path), "created": created}


@HANDLERS.handler("files.remove")
async def files_remove(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """Remove a file or (recursively) a directory."""
    path = normalize(params["path"])
    recursive = bool(params.get("recursive"))
    async with file_access.session(ctx, params, "files.remove", path=path, recursive=recursive) as (
        _,
        backend,
        outcome,
    ):
        path = _from_shell(backend, path)
        removed = await file_ops.remove(backend, path, recursive=recursive)
        outcome["removed"] = removed
        return {"path": path, "shell_path": _shell(backend, path), "removed": removed}


@HANDLERS.handler("files.move")
async def files_move(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """Rename or move on one asset."""
    source, dest = normalize(params["source"]), params["dest"]
    async with file_access.session(ctx, params, "files.move", path=source, dest=dest) as (
        _,
        backend,
        outcome,
    ):
        source, dest = _from_shell(backend, source), _from_shell(backend, dest)
        final = await file_ops.move(backend, source, dest, force=bool(params.get("force")))
        outcome["target"] = final
        return {"path": final, "shell_path": _shell(backend, final)}


def _summary(results: list[TransferResult], started: float) -> dict[str, Any]:
    return {
        "files": [r.to_wire() for r in results],
        "bytes": sum(r.size for r in results),
        "seconds": round(time.monotonic() - started, 3),
    }


class _Copy(Protocol[_Source]):
    """``file_ops.copy_in`` (local → remote) or ``file_ops.copy_out`` (remote → local)."""

    def __call__(
        self,
        backend: FileBackend,
        sources: list[_Source],
        dest: str,
        /,
        *,
        recursive: bool,
        force: bool,
        push: Push | None,
    ) -> Awaitable[list[TransferResult]]: ...


async def _transfer(
    access: FileAccess,
    ctx: CallContext,
    params: dict[str, Any],
    action: str,
    copy: _Copy[_Source],
    sources: list[_Source],
    dest: str,
    **audit: Any,
) -> dict[str, Any]:
    """Run one copy in a file session; its summary is the reply and its totals are audited."""
    started = time.monotonic()
    upload = action == "files.upload"
    async with access.session(ctx, params, action, **audit) as (_, backend, outcome):
        push = ctx.push
        if upload:
            dest = _from_shell(backend, dest)

            async def push(item: dict[str, Any]) -> None:  # name each file as the shell sees it
                if item.get("event") == "file" and isinstance(item.get("file"), str):
                    item = {**item, "file": _shell(backend, item["file"])}
                await ctx.push(item)
        else:
            sources = [_from_shell(backend, s) if isinstance(s, str) else s for s in sources]
        results = await copy(
            backend,
            sources,
            dest,
            recursive=bool(params.get("recursive")),
            force=bool(params.get("force")),
            push=push,
        )
        summary = _summary(results, started)
        for item in summary["files"]:
            item["remote"] = _shell(backend, item["target" if upload else "source"])
        outcome.update(bytes=summary["bytes"], files=len(results))
        return summary


@HANDLERS.handler("files.upload")
async def files_upload(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """Local → remote, pushing progress."""
    sources = [Path(_absolute(p)) for p in params["sources"]]
    dest = params["dest"]
    local = [str(s) for s in sources]
    return await _transfer(
        file_access,
        ctx,
        params,
        "files.upload",
        file_ops.copy_in,
        sources,
        dest,
        path=dest,
        local=local,
    )


@HANDLERS.handler("files.download")
async def files_download(
    ctx: CallContext, params: dict[str, Any], *, file_access: FileAccess
) -> dict[str, Any]:
    """Remote → local, pushing progress."""
    dest = _absolute(params["dest"])
    sources = [normalize(p) for p in params["sources"]]
    return await _transfer(
        file_access,
        ctx,
        params,
        "files.download",
        file_ops.copy_out,
        sources,
        dest,
        path=sources,
        local=dest,
    )


@HANDLERS.handler("files.sessions")
async def files_sessions(
    ctx: CallContext, params: dict[str, Any], *, files: FileSessionManager
) -> dict[str, Any]:
    """Live file sessions."""
    owner = ctx.identity.scope
    return {"sessions": files.sessions(owner)}


@HANDLERS.handler("files.close")
async def files_close(
    ctx: CallContext, params: dict[str, Any], *, files: FileSessionManager, audit: AuditLog
) -> dict[str, Any]:
    """Close one file session."""
    owner = ctx.identity.scope
    if not files.close(params["session"], owner):
        raise RpcError(ErrorCode.NOT_FOUND, f"no file session {quote_input(params['session'])}")
    audit.record(ctx.identity, "files.close", file_session=params["session"])
    return {"closed": params["session"]}
