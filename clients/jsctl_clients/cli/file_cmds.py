"""Remote files over 443: ls, cp, mv, mkdir, rm, stat, and `files` (sessions).

Remote paths are written ``REF:PATH`` (``web-03:/var/log/app.log``); PATH is relative to the
asset's file root, which the platform sets (often ``/tmp``; `jsctl ls REF:` shows it). Local
paths are made absolute here and read or written by the daemon itself.
"""

from __future__ import annotations

import os
import time
from typing import Any

import click

from ._app import fail, json_option, runtime
from ._progress import ProgressView
from ._render import table

profile_option = click.option("--profile", "-p", help="Profile (default: the default one).")
account_option = click.option("--account", "-a", help="Account name, username or alias.")
force_option = click.option("--force", "-f", is_flag=True, help="Overwrite existing files.")


def split_remote(arg: str) -> tuple[str, str] | None:
    """``REF:PATH`` → (REF, PATH); None for a local path (no colon, or a slash before it)."""
    head, sep, tail = arg.partition(":")
    if not sep or not head or "/" in head:
        return None
    return head, tail or "/"


def _remote(arg: str) -> tuple[str, str]:
    parsed = split_remote(arg)
    if parsed is None:
        raise click.UsageError(f"`{arg}` is not a remote path; write it as ASSET:PATH")
    return parsed


def _local(arg: str) -> str:
    """An absolute local path, keeping a trailing slash (it means "into this directory")."""
    absolute = os.path.abspath(os.path.expanduser(arg))
    return absolute + "/" if arg.endswith("/") and absolute != "/" else absolute


def _where(account: str | None, profile: str | None) -> dict[str, Any]:
    return {"account": account, "profile": profile}


def _each(method: str, targets: tuple[str, ...], where: dict[str, Any], **options: Any) -> None:
    """Call ``method`` on each ASSET:PATH target in turn, then emit the replies together."""
    rt = runtime()
    results = [
        rt.call(method, asset=ref, path=path, **options, **where)
        for ref, path in map(_remote, targets)
    ]
    rt.emit({"results": results}, lambda _: None)


@click.command()
@click.argument("target")
@click.option("--long", "-l", "long_", is_flag=True, help="Show mode, size and time.")
@account_option
@profile_option
@json_option
def ls(target: str, long_: bool, account: str | None, profile: str | None) -> None:
    """List TARGET (ASSET or ASSET:PATH) on the asset's file root."""
    ref, path = split_remote(target) or (target, "/")
    rt = runtime()
    listing = rt.call("files.list", asset=ref, path=path, **_where(account, profile))

    def show(data: dict[str, Any]) -> None:
        entries = data["entries"]
        if not long_:
            for e in entries:
                click.echo(e["name"] + ("/" if e["type"] == "dir" else ""))
            return
        rows = [
            [
                e["mode"] or ("d" if e["type"] == "dir" else "-"),
                e["size"],
                time.strftime("%Y-%m-%d %H:%M", time.localtime(e["mtime"])) if e["mtime"] else "",
                e["name"] + ("/" if e["type"] == "dir" else ""),
            ]
            for e in entries
        ]
        shown = data.get("shell_path") or data["path"]
        click.echo(f"# {ref}:{shown} (file root {data['root'] or '/'}, {data['api']})")
        if rows:
            table(["mode", "size", "modified", "name"], rows)

    rt.emit(listing, show)


@click.command()
@click.argument("target")
@account_option
@profile_option
@json_option
def stat(target: str, account: str | None, profile: str | None) -> None:
    """Show one remote path's type, size and modification time."""
    ref, path = _remote(target)
    rt = runtime()
    data = rt.call("files.stat", asset=ref, path=path, **_where(account, profile))

    def show(result: dict[str, Any]) -> None:
        entry = result["entry"]
        when = entry["mtime"] and time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["mtime"]))
        shown = entry.get("shell_path") or entry["path"]
        click.echo(f"path: {shown}\ntype: {entry['type']}\nsize: {entry['size']}")
        click.echo(f"mode: {entry['mode'] or '-'}\nmodified: {when or '-'}")

    rt.emit(data, show)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--parents", "-p", is_flag=True, help="Make parents; no error if it exists.")
@account_option
@click.option("--profile", help="Profile (default: the default one).")
@json_option
def mkdir(
    targets: tuple[str, ...], parents: bool, account: str | None, profile: str | None
) -> None:
    """Create remote directories (ASSET:PATH ...)."""
    _each("files.mkdir", targets, _where(account, profile), parents=parents)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--recursive", "-r", is_flag=True, help="Remove directories and their contents.")
@account_option
@profile_option
@json_option
def rm(targets: tuple[str, ...], recursive: bool, account: str | None, profile: str | None) -> None:
    """Remove remote files (directories need -r; the file root itself is refused)."""
    _each("files.remove", targets, _where(account, profile), recursive=recursive)


def _transfer(
    sources: tuple[str, ...], dest: str, *, recursive: bool, force: bool, where: dict[str, Any]
) -> tuple[str, str, list[str], dict[str, Any]]:
    """Run an upload or a download; answers (direction, asset, sources, result)."""
    remote_dest = split_remote(dest)
    remote_sources = [split_remote(s) for s in sources]
    rt = runtime()
    if remote_dest is not None:
        if any(r is not None for r in remote_sources):
            fail("copying between two remote places is not supported; download, then upload")
        method, ref, verb = "files.upload", remote_dest[0], "uploaded"
        names = [_local(s) for s in sources]
        params: dict[str, Any] = {"sources": names, "dest": remote_dest[1]}
    else:
        if any(r is None for r in remote_sources):
            fail("one side must be remote (ASSET:PATH); for local copies use cp")
        refs = {r[0] for r in remote_sources if r is not None}
        if len(refs) != 1:
            fail("all remote sources must be on one asset")
        method, ref, verb = "files.download", refs.pop(), "downloaded"
        names = [r[1] for r in remote_sources if r is not None]
        params = {"sources": names, "dest": _local(dest)}
    view = ProgressView(verb)
    stream = rt.client().stream(
        method, asset=ref, recursive=recursive, force=force, **params, **where
    )
    for item in stream:
        if not rt.json:
            view.feed(item)
    result: dict[str, Any] = stream.result
    if rt.json:
        rt.emit(result)
    else:
        view.finish(result)
    return method, ref, names, result


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--recursive", "-r", is_flag=True, help="Copy directories and their contents.")
@force_option
@account_option
@profile_option
@json_option
def cp(
    paths: tuple[str, ...], recursive: bool, force: bool, account: str | None, profile: str | None
) -> None:
    """Copy files to or from an asset: SRC... DST, one side written ASSET:PATH.

    \b
    jsctl cp ./build.tar.gz web-03:/releases/
    jsctl cp -r web-03:/logs ./logs-web-03
    Transfers stream with progress, are checked for size (SHA-256 in --json), and never
    leave a half-written file under the final name. Existing files need --force.
    """
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    _transfer(
        paths[:-1], paths[-1], recursive=recursive, force=force, where=_where(account, profile)
    )


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--recursive", "-r", is_flag=True, help="Move directories and their contents.")
@force_option
@account_option
@profile_option
@json_option
def mv(
    paths: tuple[str, ...], recursive: bool, force: bool, account: str | None, profile: str | None
) -> None:
    """Move files: rename on one asset, or copy to/from it and then remove the source."""
    if len(paths) < 2:
        raise click.UsageError("give at least one source and a destination")
    sources, dest = paths[:-1], paths[-1]
    where = _where(account, profile)
    rt = runtime()
    remote_dest = split_remote(dest)
    remote_sources = [split_remote(s) for s in sources]
    if remote_dest is not None and all(r is not None for r in remote_sources):
        results = []
        for source in remote_sources:
            assert source is not None
            if source[0] != remote_dest[0]:
                fail("moving between two assets is not supported; download, then upload")
            results.append(
                rt.call(
                    "files.move",
                    asset=source[0],
                    source=source[1],
                    dest=remote_dest[1],
                    force=force,
                    **where,
                )
            )
        rt.emit({"results": results}, lambda _: None)
        return
    method, ref, names, _result = _transfer(
        sources, dest, recursive=recursive, force=force, where=where
    )
    if method == "files.upload":
        _remove_local(names)
    else:
        for name in names:
            rt.call("files.remove", asset=ref, path=name, recursive=recursive, **where)


def _remove_local(paths: list[str]) -> None:
    import shutil

    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


@click.group()
def files() -> None:
    """File sessions the daemon keeps open (reused per asset and account)."""


@files.command("sessions")
@json_option
def files_sessions() -> None:
    """List live file sessions."""
    rt = runtime()
    data = rt.call("files.sessions")

    def show(result: dict[str, Any]) -> None:
        rows = [
            [s["id"], s["asset"], s["account"], s["owner"], s["api"], s["root"], s["busy"]]
            for s in result["sessions"]
        ]
        if not rows:
            click.echo("no file sessions")
            return
        table(["id", "asset", "account", "owner", "api", "root", "busy"], rows)

    rt.emit(data, show)


@files.command("close")
@click.argument("session")
def files_close(session: str) -> None:
    """Close a file session now."""
    runtime().call("files.close", session=session)


__all__ = ["cp", "files", "ls", "mkdir", "mv", "rm", "split_remote", "stat"]
