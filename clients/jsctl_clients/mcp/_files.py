"""The `files` tool: remote files on an asset, answered in a few lines sized for a model.

The daemon does the work and holds the safety gates (overwriting needs ``force``, directories
need ``recursive``, the file root is never removed or moved); this module checks which
arguments each action needs, calls the daemon and says the outcome briefly. Transfers answer
with what was copied (paths, sizes, SHA-256), never with file contents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from jsctl_protocol import ErrorCode, RpcError

from ._pages import fields

Call = Callable[..., Any]

# What each action needs besides action and asset.
_NEEDS = {
    "ls": (),
    "stat": ("path",),
    "mkdir": ("path",),
    "rm": ("path",),
    "mv": ("path", "to"),
    "upload": ("local", "path"),
    "download": ("path", "local"),
}


def _when(mtime: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(mtime)) + "Z" if mtime else "-"


def _entry_line(entry: dict[str, Any]) -> str:
    is_dir = entry["type"] == "dir"
    mode = entry.get("mode") or ("d" if is_dir else "-")
    size = "-" if is_dir else entry.get("size", 0)
    return f"{mode}  {size}  {_when(entry.get('mtime'))}  {entry['name']}{'/' if is_dir else ''}"


class FilesTool:
    """One `files` call: which action, which daemon method, and the answer in words."""

    def __init__(self, call: Call, page_chars: int) -> None:
        self._call = call
        self._page_chars = page_chars

    def __call__(self, arguments: dict[str, Any]) -> str:
        """Run the action ``arguments`` name; the text for the model."""
        action = arguments["action"]
        missing = [name for name in _NEEDS[action] if not arguments.get(name)]
        if missing:
            raise RpcError(
                ErrorCode.BAD_PARAMS, f"`files` action={action} needs {' and '.join(missing)}"
            )
        local = arguments.get("local")
        if action in ("upload", "download") and not os.path.isabs(str(local)):
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"local must be an absolute path on this machine, not {local!r}",
            )
        where = {"asset": arguments["asset"], "account": arguments.get("account")}
        return str(getattr(self, f"_{action}")(arguments, where))

    def _ls(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        reply = self._call("files.list", path=arguments.get("path") or "/", **where)
        entries: list[dict[str, Any]] = reply["entries"]
        start = int(arguments.get("offset") or 0)
        lines: list[str] = []
        used = 0
        for entry in entries[start:]:
            line = _entry_line(entry)
            used += len(line) + 1
            if lines and used > self._page_chars:
                break
            lines.append(line)
        end = start + len(lines)
        header = fields(
            asset=where["asset"],
            path=reply.get("shell_path") or reply["path"],
            root=reply.get("root") or "/",
            type=None if reply["entry"]["type"] == "dir" else "file",
            entries=len(entries),
            shown=f"{start}-{end}" if lines else None,
        )
        if end < len(entries):
            lines.append(f"[{len(entries) - end} more: files action=ls offset={end}]")
        return "\n".join([header, *(lines or ["(empty)"])])

    def _stat(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        entry = self._call("files.stat", path=arguments["path"], **where)["entry"]
        return fields(
            path=entry.get("shell_path") or entry["path"],
            type=entry["type"],
            size=entry.get("size"),
            mode=entry.get("mode") or None,
            modified=_when(entry.get("mtime")),
        )

    def _mkdir(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        reply = self._call(
            "files.mkdir", path=arguments["path"], parents=bool(arguments.get("recursive")), **where
        )
        shown = reply.get("shell_path") or reply["path"]
        return fields(path=shown, created="yes" if reply["created"] else "no (exists)")

    def _rm(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        reply = self._call(
            "files.remove",
            path=arguments["path"],
            recursive=bool(arguments.get("recursive")),
            **where,
        )
        return fields(removed=reply.get("shell_path") or reply["path"], entries=reply["removed"])

    def _mv(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        reply = self._call(
            "files.move",
            source=arguments["path"],
            dest=arguments["to"],
            force=bool(arguments.get("force")),
            **where,
        )
        return fields(moved=arguments["path"], to=reply.get("shell_path") or reply["path"])

    def _upload(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        return self._transfer(
            "files.upload", arguments["local"], arguments["path"], arguments, where
        )

    def _download(self, arguments: dict[str, Any], where: dict[str, Any]) -> str:
        return self._transfer(
            "files.download", arguments["path"], arguments["local"], arguments, where
        )

    def _transfer(
        self,
        method: str,
        source: str,
        dest: str,
        arguments: dict[str, Any],
        where: dict[str, Any],
    ) -> str:
        reply = self._call(
            method,
            sources=[source],
            dest=dest,
            recursive=bool(arguments.get("recursive")),
            force=bool(arguments.get("force")),
            **where,
        )
        copied: list[dict[str, Any]] = reply["files"]
        lines = [fields(files=len(copied), bytes=reply["bytes"], seconds=reply["seconds"])]
        used = 0
        for shown, item in enumerate(copied):
            source, target = item["source"], item["target"]
            if item.get("remote") and method == "files.upload":  # as the asset's shell sees it
                target = item["remote"]
            elif item.get("remote"):
                source = item["remote"]
            line = f"{source} -> {target}  {item['size']}B  sha256={item['sha256']}"
            used += len(line) + 1
            if shown and used > self._page_chars:
                lines.append(f"[{len(copied) - shown} more files copied, not listed]")
                break
            lines.append(line)
        return "\n".join(lines)
