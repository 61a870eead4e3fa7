"""The v4 JSON file API over ``wss://<host>/koko/ws/sftp/`` (sheet 8.2).

After CONNECT every request is an ``SFTP_DATA`` frame with ``cmd``, ``data`` (JSON in a string)
and ``raw`` (base64); replies echo ``id`` and ``cmd``. KoKo handles each request in its own
goroutine, but from v4.9.0 every goroutine reads its command and data from one shared field
holding the newest request (``websftp.go`` ``h.msg``): two requests in flight together can run
one command with the other's data. So a session keeps one request in flight at a time (a
download or an upload holds the turn until its last frame); replies are still routed by ``id``.
Uploads use one decimal-integer id for all chunks and the merge: KoKo keys the chunk state by
it.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import quote

import trio
from trio_websocket import ConnectionRejected, WebSocketConnection

from jsctl_koko import encode_client_message, nested

from ..jumpserver._koko_socket import await_connect, connect_socket, koko_failures, rejection_error
from ..jumpserver.config import ServerConfig
from ..jumpserver.koko_auth import KokoCredentials
from ._backend import ChunkSource, RemoteEntry
from ._channel import KokoChannel, serving
from ._errors import FileError, FileSessionLost, TransferFailed, remote_error
from ._paths import parent, relative_to, under_root
from ._settings import FileSettings

__all__ = ["SFTP_PATH", "SftpApiMissing", "SftpSession", "open_sftp"]

SFTP_PATH = "/koko/ws/sftp/"
Reply = dict[str, Any]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def entry_from_wire(item: dict[str, Any]) -> RemoteEntry:
    """A list item (sizes and mtimes arrive as strings)."""
    mtime = _int(item.get("mod_time"))
    return RemoteEntry(
        name=str(item.get("name", "")),
        is_dir=bool(item.get("is_dir")),
        size=_int(item.get("size")),
        mtime=float(mtime) if mtime else None,
        mode=str(item.get("perm") or ""),
    )


class SftpApiMissing(Exception):
    """The server has no ``/koko/ws/sftp/`` (a v3 KoKo answers the upgrade with 404)."""


class SftpSession:
    """One ``/koko/ws/sftp/`` session: the channel's reader routes replies to waiting calls."""

    kind = "sftp"

    def __init__(self, ws: WebSocketConnection, settings: FileSettings) -> None:
        self._settings = settings
        self.channel = KokoChannel(ws, settings, self._route)
        self.channel.on_end.append(self._fail_pending)
        self._ids = itertools.count(random.randrange(1, 2**31))
        self._pending: dict[str, trio.MemorySendChannel[Reply]] = {}
        self._turn = trio.Lock()  # one request in flight on the socket (module docstring)
        self.ended = self.channel.ended
        self.root = "/"

    @property
    def closed(self) -> str | None:
        """Why the session ended, once it has."""
        return self.channel.reason

    def _fail_pending(self) -> None:
        for channel in self._pending.values():
            channel.close()

    async def _route(self, message: Reply) -> None:
        channel = self._pending.get(str(message.get("id", "")))
        if message.get("type") in ("SFTP_DATA", "SFTP_BINARY", "CLOSE") and channel is not None:
            # A caller that gave up has closed its end: drop the reply.
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await channel.send(message)

    async def aclose(self) -> None:
        """Close the socket (KoKo ends the SFTP session with it)."""
        await self.channel.aclose()

    # -- requests ----------------------------------------------------------------------------

    def _next_id(self) -> str:
        return str(next(self._ids))

    @asynccontextmanager
    async def _expect(
        self, msg_id: str, buffer: int = 1
    ) -> AsyncIterator[trio.MemoryReceiveChannel[Reply]]:
        send, receive = trio.open_memory_channel[Reply](buffer)
        self._pending[msg_id] = send
        if self.closed is not None:
            send.close()
        try:
            yield receive
        finally:
            self._pending.pop(msg_id, None)
            receive.close()

    async def _frame(
        self, msg_id: str, cmd: str, payload: dict[str, Any], raw: bytes = b""
    ) -> None:
        head = encode_client_message(msg_id, "SFTP_DATA", json.dumps(payload), cmd=cmd)
        if not raw:
            await self.channel.send(head)
            return
        # Splice the base64 in with one copy (no json-encoding of a multi-megabyte string).
        frame = "".join((head[:-1], ', "raw": "', base64.b64encode(raw).decode("ascii"), '"}'))
        await self.channel.send(frame)

    async def _next_reply(self, replies: trio.MemoryReceiveChannel[Reply], what: str) -> Reply:
        with trio.move_on_after(self._settings.reply_timeout):
            try:
                reply = await replies.receive()
            except trio.EndOfChannel:
                raise self.channel.lost() from None
            if reply.get("type") == "CLOSE":
                raise FileSessionLost(
                    f"the KoKo file session ended: {reply.get('err') or 'closed'}"
                )
            return reply
        self.channel.end(f"no answer to {what} within {self._settings.reply_timeout:g} s")
        raise self.channel.lost()

    async def _call(self, cmd: str, path: str, payload: dict[str, Any]) -> Reply:
        msg_id = self._next_id()
        async with self._turn, self._expect(msg_id) as replies:
            await self._frame(msg_id, cmd, payload)
            reply = await self._next_reply(replies, cmd)
        if reply.get("err"):
            raise remote_error(cmd, path, str(reply["err"]))
        return reply

    def _real(self, path: str) -> str:
        return under_root(self.root, path)

    async def learn_root(self) -> None:
        """List the root once: it proves the session works and names the real file root."""
        reply = await self._call("list", "/", {"path": ""})
        current = str(reply.get("current_path") or "")
        if not current and nested(reply.get("data")) in ([], None, "", "null"):
            # KoKo (v4.10.15) answers a failed asset login with an empty listing and no path,
            # and every later request with "Session expired or not found".
            self.channel.end("KoKo could not log in to the asset")
            raise FileSessionLost(
                "KoKo could not log in to the asset with this account (an empty answer with no "
                "file root): check the account's password or key in JumpServer, or pick "
                "another account with --account"
            )
        self.root = current if current.startswith("/") else ""

    async def list(self, path: str) -> list[RemoteEntry]:
        """The entries of a directory (KoKo omits hidden dot-files)."""
        reply = await self._call("list", path, {"path": self._real(path)})
        items = nested(reply.get("data"))
        if not isinstance(items, list):
            if items in ("", None, "null"):
                return []
            raise FileError(f"KoKo answered `list {path}` with something that is not a listing")
        return [entry_from_wire(item) for item in items if isinstance(item, dict)]

    async def mkdir(self, path: str) -> None:
        """Create a directory (KoKo creates missing parents too)."""
        await self._call("mkdir", path, {"path": self._real(path)})

    async def remove(self, path: str) -> None:
        """Remove a file or an (empty) directory."""
        await self._call("rm", path, {"path": self._real(path)})

    async def rename(self, path: str, new_path: str) -> None:
        """Move ``path``; KoKo joins ``new_name`` to the old parent, so a relative path moves."""
        new_name = relative_to(new_path, parent(path))
        await self._call("rename", path, {"path": self._real(path), "new_name": new_name})

    @asynccontextmanager
    async def download(self, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """The file's bytes as KoKo streams them (SFTP_BINARY chunks, then SFTP_DATA)."""
        msg_id = self._next_id()
        finished = False
        async with self._turn, self._expect(msg_id, self._settings.download_queue) as replies:
            await self._frame(msg_id, "download", {"path": self._real(path), "is_dir": False})

            async def chunks() -> AsyncIterator[bytes]:
                nonlocal finished
                while True:
                    reply = await self._next_reply(replies, "download")
                    if reply.get("err") and reply.get("type") == "SFTP_BINARY":
                        # A read error midway; KoKo then ends the stream without an error.
                        finished = True
                        raise TransferFailed(
                            f"the asset failed to read {path} midway ({reply['err']}); "
                            "nothing was saved"
                        )
                    if reply.get("err"):
                        finished = True
                        raise remote_error("download", path, str(reply["err"]))
                    if reply.get("type") == "SFTP_DATA":
                        finished = True
                        return
                    data = base64.b64decode(reply.get("raw") or "")
                    if data:
                        yield data

            try:
                yield chunks()
            finally:
                if not finished:
                    # KoKo keeps streaming the rest of the file: this session is spent.
                    self.channel.end("a download was abandoned midway")

    async def upload(
        self, path: str, size: int, read: ChunkSource, progress: Callable[[int], None]
    ) -> None:
        """Whole-file upload for small files, else chunks at offsets and a merge."""
        real = self._real(path)
        msg_id = self._next_id()
        chunk = self._settings.upload_chunk
        async with self._turn, self._expect(msg_id) as replies:
            if size <= chunk:
                data = await read(size)
                if len(data) != size:
                    raise TransferFailed(f"the local file changed size while uploading {path}")
                await self._frame(
                    msg_id, "upload", {"path": real, "size": size, "chunk": False}, data
                )
                await self._upload_reply(replies, path)
                progress(len(data))
                return
            offset, data = 0, await read(min(chunk, size))
            while data:
                body = {"path": real, "size": size, "chunk": True, "offset": offset}
                await self._frame(msg_id, "upload", body, data)
                offset += len(data)
                # Read the next chunk from disk while KoKo writes this one.
                following = await read(min(chunk, size - offset)) if offset < size else b""
                await self._upload_reply(replies, path)
                progress(len(data))
                data = following
            if offset != size:
                raise TransferFailed(f"the local file changed size while uploading {path}")
            await self._frame(msg_id, "upload", {"path": real, "merge": True})
            await self._upload_reply(replies, path)

    async def _upload_reply(self, replies: trio.MemoryReceiveChannel[Reply], path: str) -> None:
        reply = await self._next_reply(replies, "upload")
        if reply.get("err"):
            raise remote_error("upload", path, str(reply["err"]))


@asynccontextmanager
async def open_sftp(
    config: ServerConfig, credentials: str | KokoCredentials, token_id: str, settings: FileSettings
) -> AsyncIterator[SftpSession]:
    """Connect a ``web_sftp`` token's file session; LoginRequired on a 302, 404 if absent (v3)."""
    resource = f"{config.base_path}{SFTP_PATH}?token={quote(token_id, safe='')}"

    def rejected(error: ConnectionRejected) -> Exception:
        return SftpApiMissing(resource) if error.status_code == 404 else rejection_error(error)

    with koko_failures(rejected):
        async with trio.open_nursery() as nursery:
            ws = await connect_socket(
                nursery,
                config,
                resource,
                credentials,
                settings.koko(),
                message_queue_size=settings.download_queue,
                max_message_size=settings.max_message,
                receive_buffer_size=256 * 1024,
            )
            session = SftpSession(ws, settings)
            connected = partial(await_connect, ws, settings.connect_timeout, "file session")
            async with serving(nursery, session, connected):
                yield session
