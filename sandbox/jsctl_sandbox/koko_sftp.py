"""KoKo v4's JSON file manager WebSocket (``/koko/ws/sftp/``), sheet 8.2.

After CONNECT every client message is a request ``{"id","cmd","data":"<json>","raw"}``
answered with ``SFTP_DATA`` (downloads first stream ``SFTP_BINARY`` chunks). As in KoKo, each
request runs in a task of its own as soon as it arrives, so replies can come out of order.
Version behaviours (``KokoSettings.version``):

- v4.8.0+: the endpoint exists (404 before: the client must use elFinder).
- v4.9.0+: the handler keeps the newest request in one shared field and every running request
  reads its command, data and upload id from that field (``websftp.go`` ``h.msg``): two
  requests in flight on one socket can run one command with the other's data. Each request
  that ran with another's data is counted as ``sftp_mixed_up`` (control API counters).
- v4.10.2+: a whole-file upload replies ``"ok"`` (its path before); a command after the SFTP
  session ended gets ``CLOSE`` ``Session expired or not found``.
- ``asset_login_error``: the asset refuses the login; ``list`` answers ``[]`` with an empty
  ``current_path`` (v4.10.15 ``sftpwebvolume.go``) and the session is gone for later commands.
- ``download_read_error``: reading a file fails midway: ``SFTP_BINARY`` with ``err``, an empty
  ``SFTP_BINARY``, then ``SFTP_DATA`` without ``err`` (``streamFileContent``).

Files are streamed in 2 MiB pieces, and chunked uploads are staged and renamed into place on
merge, so large files never sit in memory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, BinaryIO

import trio
from starlette.responses import Response
from starlette.websockets import WebSocket

from jsctl_sandbox._files_go import decode_struct, go_atoi, go_base, go_dir, go_join, go_json
from jsctl_sandbox._files_go import go_mode_string as perm_text
from jsctl_sandbox._files_paths import FileOpError
from jsctl_sandbox._files_socket import FileMessage, FileSocket
from jsctl_sandbox._files_socket import encode_file_message as encode
from jsctl_sandbox._files_volume import Entry, FileVolume, oserror_guard
from jsctl_sandbox._koko_io import accept_koko_socket
from jsctl_sandbox._version import ServerVersion

__all__ = ["DOWNLOAD_CHUNK", "SESSION_GONE", "sftp_endpoint"]

DOWNLOAD_CHUNK = 2 * 1024 * 1024
SESSION_GONE = "Session expired or not found"
_SFTP_DATA = "SFTP_DATA"
_SFTP_BINARY = "SFTP_BINARY"
_REQUEST_FIELDS: dict[str, type] = {
    "path": str,
    "new_name": str,
    "chunk": bool,
    "merge": bool,
    "offset": int,
    "size": int,
    "is_dir": bool,
}


async def sftp_endpoint(websocket: WebSocket) -> None:
    """Serve one ``/koko/ws/sftp/`` socket using ``websocket.app.state.koko_backend``."""
    if not ServerVersion(websocket.app.state.koko_backend.settings.version).has_sftp_socket:
        await websocket.send_denial_response(Response(status_code=404))  # v4-only endpoint
        return
    accepted = await accept_koko_socket(websocket)
    if accepted is not None:
        await _SftpSocket(websocket, *accepted).run()


def _listing(entries: list[Entry]) -> str:
    items = [
        {
            "name": e.name,
            "size": str(e.size),
            "perm": perm_text(e.mode),
            "mod_time": str(int(e.mtime)),
            "type": "",
            "is_dir": e.is_dir,
        }
        for e in entries
    ]
    return go_json(items)


class _Reply:
    """The reply being built for one request (KoKo fills it field by field)."""

    def __init__(self, request: FileMessage, current_path: str) -> None:
        self.id, self.cmd, self.current_path = request.id, request.cmd, current_path
        self.type, self.data, self.err = _SFTP_DATA, "", ""

    def frame(self, *, raw: bytes | None = None) -> str:
        return encode(
            self.type,
            id=self.id,
            data=self.data,
            err=self.err,
            raw=raw,
            cmd=self.cmd,
            current_path=self.current_path,
        )


class _SftpSocket(FileSocket):
    """Each request runs in its own task, reading the shared request field where KoKo does."""

    async def opened(self, nursery: trio.Nursery) -> None:
        self._current_path = ""
        self._started = False
        self._gone = False  # the SFTP session behind the socket has ended
        self._latest: FileMessage | None = None  # KoKo's `h.msg`
        self._nursery = nursery
        self._version = ServerVersion(self.settings.version)

    async def handle(self, message: FileMessage) -> None:
        self._latest = message
        self._nursery.start_soon(self._serve, message)

    async def _serve(self, own: FileMessage) -> None:
        # The goroutine starts a moment later; from v4.9.0 it then reads the shared field.
        await trio.sleep(self.settings.sftp_dispatch_delay_s)
        source = own
        if self._version.sftp_shares_request and self._latest is not None:
            source = self._latest
            if source is not own:
                self.backend.count("sftp_mixed_up")
        reply = _Reply(own, self._current_path)
        reply.cmd = own.cmd
        try:
            await self._dispatch(source, reply)
        except FileOpError as exc:
            reply.err = str(exc)
        if not self.outbox.silenced.is_set():
            await self.outbox.text(reply.frame())

    @property
    def _volume(self) -> FileVolume:
        assert self.volume is not None
        return self.volume

    async def _dispatch(self, message: FileMessage, reply: _Reply) -> None:
        """Fill ``reply`` (FileOpError sets its ``err``); downloads also stream chunks."""
        try:
            request = decode_struct(message.data, _REQUEST_FIELDS, "webSftpRequest")
        except ValueError as exc:
            raise FileOpError(str(exc)) from None
        volume, settings = self._volume, self.settings
        if self._started and volume.session_over(settings.idle_timeout_s, settings.max_session_s):
            self._gone = True
        if self._started and self._gone and self._version.sftp_session_gone_close:
            reply.type = "CLOSE"
            raise FileOpError(SESSION_GONE)
        self._started = True
        volume.touch()
        handler = _COMMANDS.get(message.cmd)
        if handler is None:
            raise FileOpError("Unknown command")
        await handler(self, request, message, reply)

    async def _list(self, request: dict[str, Any], _m: FileMessage, reply: _Reply) -> None:
        volume = self._volume
        remote = volume.remote(request["path"])
        entries: list[Entry] = []
        if self.settings.asset_login_error:
            # KoKo logged the failure and answers an empty listing; the session is gone.
            self._gone, self._current_path = True, ""
            reply.data, reply.current_path = _listing([]), ""
            return
        if volume.usable:
            self._current_path = remote
        # KoKo answers an unreadable directory with an empty list, not an error.
        try:
            entries = await trio.to_thread.run_sync(volume.read_dir, remote)
        except FileOpError:
            entries = []
        reply.data, reply.current_path = _listing(entries), self._current_path

    def _permitted(self, action: str) -> None:
        if action not in self._volume.actions:
            raise FileOpError("Permission denied")

    async def _download(self, request: dict[str, Any], _m: FileMessage, reply: _Reply) -> None:
        self._permitted("download")
        volume = self._volume
        remote = volume.remote(request["path"])
        name = go_base(request["path"])
        if request["is_dir"]:
            zipped = await trio.to_thread.run_sync(volume.zip_dir, remote)
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
            name = f"{go_base(request['path'])}-{stamp}.zip"
            try:
                await self._stream(zipped.open("rb"), reply)
            finally:
                zipped.unlink(missing_ok=True)
        else:
            await self._stream(await trio.to_thread.run_sync(volume.open_read, remote), reply)
        reply.type, reply.data = _SFTP_DATA, name

    async def _stream(self, source: BinaryIO, reply: _Reply) -> None:
        """SFTP_BINARY frames of 2 MiB; a short read ends it (an exact fit ends with ``""``).

        A read error is KoKo's: SFTP_BINARY with ``err``, one with what was read (nothing),
        and the caller's closing SFTP_DATA carries no ``err``.
        """
        reply.type = _SFTP_BINARY
        failing_after = self.settings.download_read_error_after
        sent = 0
        with source:
            while True:
                chunk, error = b"", ""
                if failing_after is not None and sent >= failing_after:
                    error = "read: connection reset by peer"
                else:
                    try:
                        with oserror_guard():
                            chunk = await trio.to_thread.run_sync(source.read, DOWNLOAD_CHUNK)
                    except FileOpError as exc:
                        error = str(exc)
                if self.outbox.silenced.is_set():
                    return
                if error:
                    await self.outbox.text(_with_err(reply, error))
                    await self.outbox.text(reply.frame(raw=b""))
                    return
                sent += len(chunk)
                await self.outbox.text(reply.frame(raw=chunk))
                if len(chunk) < DOWNLOAD_CHUNK:
                    return

    async def _upload(self, request: dict[str, Any], message: FileMessage, reply: _Reply) -> None:
        self._permitted("upload")
        volume = self._volume
        try:
            cid = go_atoi(message.id)  # the envelope id keys a chunked upload
        except ValueError as exc:
            raise FileOpError(str(exc)) from None
        remote = volume.remote(request["path"])
        if request["merge"]:
            reply.data = "ok"
            if await trio.to_thread.run_sync(volume.merge_chunks, cid) is None:
                raise FileOpError(f"chunk file not found {cid}")
        elif request["chunk"]:
            reply.data = request["path"]
            await trio.to_thread.run_sync(
                volume.write_chunk, cid, remote, request["offset"], message.raw
            )
        else:
            reply.data = "ok" if self._version.sftp_upload_replies_ok else request["path"]
            await trio.to_thread.run_sync(volume.write_whole, remote, message.raw, request["size"])

    async def _remove(self, request: dict[str, Any], _m: FileMessage, reply: _Reply) -> None:
        await trio.to_thread.run_sync(self._volume.remove, self._volume.remote(request["path"]))
        reply.data = "ok"

    async def _rename(self, request: dict[str, Any], _m: FileMessage, reply: _Reply) -> None:
        volume, old = self._volume, request["path"]
        new = go_join(go_dir(old), request["new_name"])
        await trio.to_thread.run_sync(volume.rename, volume.remote(old), volume.remote(new))
        reply.data = "ok"

    async def _mkdir(self, request: dict[str, Any], _m: FileMessage, reply: _Reply) -> None:
        await trio.to_thread.run_sync(self._volume.mkdir_all, self._volume.remote(request["path"]))
        reply.data = "ok"


def _with_err(reply: _Reply, err: str) -> str:
    failed = _Reply.__new__(_Reply)
    failed.__dict__.update(reply.__dict__)
    failed.err = err
    return failed.frame(raw=b"")


_COMMANDS = {
    "list": _SftpSocket._list,
    "download": _SftpSocket._download,
    "upload": _SftpSocket._upload,
    "rm": _SftpSocket._remove,
    "rename": _SftpSocket._rename,
    "mkdir": _SftpSocket._mkdir,
}
