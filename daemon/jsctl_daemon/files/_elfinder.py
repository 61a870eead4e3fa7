"""The elFinder file API (v3 and v4, sheet 8.1): a WebSocket for the sid + an HTTP connector.

The WebSocket only carries CONNECT (its id is the ``sid``) and keep-alives; every file
command is an HTTP call to ``/koko/elfinder/connector/<asset>/?sid=..&cmd=..`` with the
same cookies. Targets are ``<volume id>_<base64url(path)>`` (the volume id comes from the
root's hash); volume paths are relative to the file root like ours.
"""

from __future__ import annotations

import base64
import random
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx
import trio
from trio_websocket import WebSocketConnection

from ..jumpserver._koko_socket import (
    await_connect,
    connect_socket,
    koko_failures,
)
from ..jumpserver.config import ServerConfig
from ..jumpserver.errors import LoginRequired, TerminalRefused
from ..jumpserver.koko_auth import KokoCredentials, as_credentials
from ._backend import ChunkSource, RemoteEntry
from ._channel import KokoChannel, serving
from ._errors import FileError, FileNotFound, FileSessionLost, TransferFailed, remote_error
from ._paths import basename, is_root, join, normalize, parent
from ._settings import FileSettings

__all__ = ["ELFINDER_WS_PATH", "ElfinderSession", "open_elfinder"]

ELFINDER_WS_PATH = "/koko/ws/elfinder/"
CONNECTOR_PATH = "/koko/elfinder/connector/"
_LOGIN_REDIRECTS = (301, 302, 303)
DOWNLOAD_CHUNK = 256 * 1024


def _error_text(error: Any) -> str:
    if isinstance(error, list):
        return ": ".join(str(part) for part in error if part)
    return str(error)


class ElfinderSession:
    """One elFinder session; connector calls are serialised (KoKo's connector is stateful)."""

    kind = "elfinder"

    def __init__(
        self,
        ws: WebSocketConnection,
        sid: str,
        http: httpx.AsyncClient,
        url: str,
        settings: FileSettings,
    ) -> None:
        self.channel = KokoChannel(ws, settings, self._ignore)
        self.ended = self.channel.ended
        self._sid = sid
        self._http = http
        self._url = url
        self._settings = settings
        self._lock = trio.Lock()
        self._volume = ""
        self.root = ""

    @property
    def closed(self) -> str | None:
        """Why the session ended, once it has."""
        return self.channel.reason

    async def _ignore(self, message: dict[str, Any]) -> None:
        """The elFinder socket carries nothing but keep-alives after CONNECT."""

    def _hash(self, path: str) -> str:
        encoded = base64.urlsafe_b64encode(normalize(path).encode()).decode().rstrip("=")
        return f"{self._volume}_{encoded}"

    async def _call(self, action: str, path: str, **params: Any) -> dict[str, Any]:
        """One connector command; an ``error`` in the answer becomes the matching FileError."""
        response = await self._request("GET", {**params}, action)
        try:
            answer = response.json()
        except ValueError:
            raise FileError(
                f"KoKo's elFinder answered `{action}` with something not JSON"
            ) from None
        if not isinstance(answer, dict):
            raise FileError(f"KoKo's elFinder answered `{action}` with something unexpected")
        if answer.get("error"):
            raise remote_error(action, path, _error_text(answer["error"]))
        warning = answer.get("warning")
        if isinstance(warning, list) and len(warning) > 1:
            raise remote_error(action, path, _error_text(warning[1:]))
        return answer

    async def _request(
        self,
        method: str,
        params: dict[str, Any],
        action: str,
        files: list[tuple[str, tuple[str | None, bytes]]] | None = None,
    ) -> httpx.Response:
        if self.closed is not None:
            raise self.channel.lost()
        query = {"sid": self._sid, **({} if files is not None else params)}
        try:
            async with self._lock:
                response = await self._http.request(
                    method,
                    self._url,
                    params=query,
                    files=[*((k, (None, str(v).encode())) for k, v in params.items()), *files]
                    if files is not None
                    else None,
                )
        except httpx.HTTPError as exc:
            raise FileSessionLost(f"KoKo's elFinder connector failed on {action}: {exc}") from None
        if response.status_code == 400:
            self.channel.end(response.text.strip() or "the connector refused the sid")
            raise self.channel.lost()
        if response.status_code in _LOGIN_REDIRECTS:
            raise self._logged_out()
        if response.status_code != 200:
            raise FileError(f"KoKo's elFinder answered {action} with HTTP {response.status_code}")
        return response

    def _logged_out(self) -> LoginRequired:
        """The connector's 302 to the login page: the web session has expired (sheet 8.2)."""
        self.channel.end("the web session expired")
        return LoginRequired("has expired (KoKo's elFinder connector sent the login page)")

    async def learn_root(self) -> None:
        """``open`` with ``init=1``: the root's hash names the volume."""
        answer = await self._call("open", "/", cmd="open", init=1)
        cwd = answer.get("cwd") or {}
        self._volume = str(cwd.get("hash", "")).split("_", 1)[0]
        self.root = str(cwd.get("name") or "")

    async def list(self, path: str) -> list[RemoteEntry]:
        """The children of a directory (``open`` lists the cwd too; keep its children only)."""
        target = self._hash(path)
        answer = await self._call("list", path, cmd="open", target=target)
        cwd_hash = str((answer.get("cwd") or {}).get("hash") or target)
        seen: set[str] = set()
        entries = []
        for item in answer.get("files") or []:
            if not isinstance(item, dict) or item.get("phash") != cwd_hash:
                continue
            if item.get("hash") in seen:
                continue
            seen.add(str(item.get("hash")))
            entries.append(
                RemoteEntry(
                    name=str(item.get("name", "")),
                    is_dir=item.get("mime") == "directory",
                    size=int(item.get("size") or 0),
                    mtime=float(item["ts"]) if item.get("ts") else None,
                )
            )
        return entries

    async def mkdir(self, path: str) -> None:
        """Create a directory, creating missing parents one by one."""
        above = parent(path)
        if not is_root(above) and basename(above) not in {
            e.name for e in await self._list_or_empty(parent(above)) if e.is_dir
        }:
            await self.mkdir(above)
        await self._call("mkdir", path, cmd="mkdir", target=self._hash(above), name=basename(path))

    async def _list_or_empty(self, path: str) -> Sequence[RemoteEntry]:
        try:
            return await self.list(path)
        except FileNotFound:
            return []

    async def remove(self, path: str) -> None:
        """Remove a file or directory (elFinder removes directories recursively)."""
        await self._call("rm", path, cmd="rm", **{"targets[]": self._hash(path)})

    async def rename(self, path: str, new_path: str) -> None:
        """``rename`` within a directory; ``paste`` with ``cut=1`` (then a rename) across them."""
        source = normalize(path)
        if parent(source) != parent(new_path):
            await self._call(
                "move",
                path,
                cmd="paste",
                dst=self._hash(parent(new_path)),
                cut=1,
                **{"targets[]": self._hash(source)},
            )
            source = join(parent(new_path), basename(source))
        if basename(source) != basename(new_path):
            await self._call(
                "rename", path, cmd="rename", target=self._hash(source), name=basename(new_path)
            )

    @asynccontextmanager
    async def download(self, path: str) -> AsyncIterator[AsyncIterator[bytes]]:
        """``file`` with ``download=1``: the body streams; errors are a 403 with text."""
        if self.closed is not None:
            raise self.channel.lost()
        params: dict[str, str | int] = {
            "sid": self._sid,
            "cmd": "file",
            "target": self._hash(path),
            "download": 1,
        }
        async with self._lock:
            try:
                async with self._http.stream("GET", self._url, params=params) as response:
                    if response.status_code != 200:
                        text = (await response.aread()).decode(errors="replace").strip()
                        if response.status_code == 400:
                            self.channel.end(text or "the connector refused the sid")
                            raise self.channel.lost()
                        if response.status_code in _LOGIN_REDIRECTS:
                            raise self._logged_out()
                        raise remote_error("download", path, text or f"HTTP {response.status_code}")
                    yield response.aiter_bytes(DOWNLOAD_CHUNK)
            except httpx.HTTPError as exc:
                raise FileSessionLost(f"the elFinder download of {path} broke: {exc}") from None

    async def upload(
        self, path: str, size: int, read: ChunkSource, progress: Callable[[int], None]
    ) -> None:
        """Multipart ``upload``; files over one chunk go as elFinder chunks, then a merge."""
        folder, name = self._hash(parent(path)), basename(path)
        chunk = self._settings.upload_chunk
        if size <= chunk:
            data = await read(size)
            await self._upload({"cmd": "upload", "target": folder}, name, data, path)
            progress(len(data))
            return
        cid = random.randrange(1, 2**31)
        last = (size + chunk - 1) // chunk - 1
        merged = ""
        for index in range(last + 1):
            offset = index * chunk
            data = await read(min(chunk, size - offset))
            if not data:
                raise TransferFailed(f"the local file changed size while uploading {path}")
            fields = {
                "cmd": "upload",
                "target": folder,
                "cid": cid,
                "chunk": f"{name}.{index}_{last}.part",
                "range": f"{offset},{len(data)},{size}",
            }
            answer = await self._upload(fields, "blob", data, path)
            merged = str(answer.get("_chunkmerged") or merged)
            progress(len(data))
        if not merged:
            raise TransferFailed(f"KoKo's elFinder did not acknowledge the chunks of {path}")
        await self._upload({"cmd": "upload", "target": folder, "chunk": merged}, None, None, path)

    async def _upload(
        self, fields: dict[str, Any], filename: str | None, data: bytes | None, path: str
    ) -> dict[str, Any]:
        files: list[tuple[str, tuple[str | None, bytes]]] = []
        if data is not None:
            files.append(("upload[]", (filename, data)))
        response = await self._request("POST", fields, "upload", files)
        answer = response.json()
        if answer.get("error"):
            raise remote_error("upload", path, _error_text(answer["error"]))
        warning = answer.get("warning")
        if isinstance(warning, list) and len(warning) > 1:
            raise remote_error("upload", path, _error_text(warning[1:]))
        return dict(answer)

    async def aclose(self) -> None:
        """Close the WebSocket (KoKo ends the file session with it) and the HTTP client."""
        await self.channel.aclose()
        with trio.move_on_after(self._settings.close_timeout) as scope:
            scope.shield = True
            await self._http.aclose()


@asynccontextmanager
async def open_elfinder(
    config: ServerConfig,
    credentials: str | KokoCredentials,
    token_id: str,
    asset_id: str,
    settings: FileSettings,
) -> AsyncIterator[ElfinderSession]:
    """Connect the elFinder WebSocket for a ``web_sftp`` token and open the volume root."""
    query = f"type=elfinder&target_id={quote(asset_id, safe='')}&token={quote(token_id, safe='')}"
    resource = f"{config.base_path}{ELFINDER_WS_PATH}?{query}"
    http = httpx.AsyncClient(
        base_url=config.url,
        verify=config.ssl_context or False,
        follow_redirects=False,
        timeout=httpx.Timeout(settings.reply_timeout, connect=settings.connect_timeout),
        headers={"Accept-Language": "en", "User-Agent": "jsctl"},
        auth=as_credentials(credentials).httpx_auth(),
    )
    url = f"{config.base_path}{CONNECTOR_PATH}{quote(asset_id, safe='')}/"
    try:
        with koko_failures():
            async with trio.open_nursery() as nursery:
                ws = await connect_socket(nursery, config, resource, credentials, settings.koko())
                try:
                    sid = await await_connect(ws, settings.connect_timeout, "file session")
                except TerminalRefused:
                    await ws.aclose()
                    raise
                session = ElfinderSession(ws, sid, http, url, settings)
                async with serving(nursery, session):
                    yield session
    finally:
        with trio.CancelScope(shield=True):
            await http.aclose()
