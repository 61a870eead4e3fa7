"""The `files.*` rows of the method table: files over 443 through KoKo."""

from __future__ import annotations

from . import _params as p
from ._table import Cli, Method, Param
from ._table import Permission as P

_file_path = Param("path", "str", "remote path relative to the file root (default: /)")
_file_path_required = Param("path", "str", "remote path relative to the file root", required=True)
_force = Param("force", "bool", "overwrite an existing file")
_recursive = Param("recursive", "bool", "copy directories and their contents")
_where = (p.account, p.profile, p.org)
_transfer_reply = (
    "streams {event, file, bytes, total_bytes, files, total_files}; "
    "ends with {files: [{source, target, size, sha256}], bytes, seconds}"
)


def _transfer(
    name: str, summary: str, sources: str, dest: str, cli: tuple[Cli, ...] = ()
) -> Method:
    """An upload or download row: streamed progress, then the copied files."""
    return Method(
        name,
        summary,
        (
            p.asset,
            Param("sources", "list", sources, required=True),
            Param("dest", "str", dest, required=True),
            _recursive,
            _force,
            *_where,
        ),
        _transfer_reply,
        P.USE,
        streams=True,
        tools=("files",),
        cli=cli,
    )


FILE_METHODS: tuple[Method, ...] = (
    Method(
        "files.list",
        "List a remote directory (paths are relative to the asset's file root).",
        (p.asset, _file_path, *_where),
        "{session, api, root, path, entry, entries: [{name, path, type, size, mtime, mode}]}",
        P.READ,
        tools=("files",),
        cli=Cli("ls", "file_cmds", "List files on an asset (ASSET:PATH)."),
    ),
    Method(
        "files.stat",
        "One remote file's or directory's type, size and time.",
        (p.asset, _file_path_required, *_where),
        "{entry}",
        P.READ,
        tools=("files",),
        cli=Cli("stat", "file_cmds", "Show a remote file's type, size and time."),
    ),
    Method(
        "files.mkdir",
        "Create a remote directory (`parents`: also missing parents, no error if it exists).",
        (p.asset, _file_path_required, Param("parents", "bool", "like mkdir -p"), *_where),
        "{path, created}",
        P.USE,
        tools=("files",),
        cli=Cli("mkdir", "file_cmds", "Create directories on an asset."),
    ),
    Method(
        "files.remove",
        "Remove a remote file; a directory needs `recursive`; the file root is refused.",
        (p.asset, _file_path_required, Param("recursive", "bool", "like rm -r"), *_where),
        "{path, removed}",
        P.USE,
        tools=("files",),
        cli=Cli("rm", "file_cmds", "Remove files on an asset (-r for directories)."),
    ),
    Method(
        "files.move",
        "Rename or move a remote path on one asset (`force` replaces a file).",
        (
            p.asset,
            Param("source", "str", "remote path", required=True),
            Param("dest", "str", "remote path or existing directory", required=True),
            _force,
            *_where,
        ),
        "{path}",
        P.USE,
        tools=("files",),
        cli=Cli("mv", "file_cmds", "Move or rename files on or to/from an asset."),
    ),
    _transfer(
        "files.upload",
        "Copy local files (absolute paths the daemon reads) to a remote path, streamed.",
        sources="absolute local paths",
        dest="remote path or directory",
        cli=(Cli("cp", "file_cmds", "Copy files to or from an asset, with progress."),),
    ),
    _transfer(
        "files.download",
        "Copy remote files to a local absolute path the daemon writes, streamed.",
        sources="remote paths",
        dest="absolute local path or directory",
    ),
    Method(
        "files.sessions",
        "Live file sessions (an agent sees its own).",
        (),
        "{sessions: [{id, profile, asset, account, owner, api, root, busy}]}",
        P.READ,
        cli=Cli("files", "file_cmds", "List or close the daemon's file sessions."),
    ),
    Method(
        "files.close",
        "Close a file session now.",
        (Param("session", "str", "file session id", required=True),),
        "{closed}",
        P.USE,
    ),
)
