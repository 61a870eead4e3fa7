"""A direct client for the sandbox's ``/koko/ws/sftp/``: the baseline the file bench compares to.

Plain httpx (web login, connection token) and trio-websocket, doing the same transfer jsctl
does (upload chunks of the daemon's size, each acknowledged, then a merge; a streamed download
written to a file).
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from pathlib import Path
from typing import Any

import trio
from files.files_support import token_and_cookie
from trio_websocket import WebSocketConnection, open_websocket_url

from jsctl_daemon.files import FileSettings
from jsctl_sandbox.testing import SandboxInfo

CHUNK = FileSettings().upload_chunk


async def _reply(ws: WebSocketConnection, msg_id: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.get_message())
        if message.get("id") == msg_id and message.get("type") in ("SFTP_DATA", "SFTP_BINARY"):
            if message.get("err"):
                raise RuntimeError(message["err"])
            return dict(message)


async def _session(info: SandboxInfo, username: str, asset: str, work: Any) -> float:
    token, cookie = token_and_cookie(info, username, asset)
    context = ssl.create_default_context(cafile=info.ca_file) if info.ca_file else None
    started = time.perf_counter()
    async with open_websocket_url(
        f"{info.ws_url}/koko/ws/sftp/?token={token}",
        ssl_context=context,
        subprotocols=["JMS-KOKO"],
        extra_headers=[(b"Cookie", cookie.encode())],
        max_message_size=32 * 1024 * 1024,
        receive_buffer_size=256 * 1024,
    ) as ws:
        while json.loads(await ws.get_message()).get("type") != "CONNECT":
            pass
        await ws.send_message(
            json.dumps(
                {"id": "1", "type": "SFTP_DATA", "cmd": "list", "data": json.dumps({"path": ""})}
            )
        )
        root = (await _reply(ws, "1"))["current_path"]
        await work(ws, root)
    return time.perf_counter() - started


def upload(info: SandboxInfo, username: str, asset: str, local: Path, remote: str) -> float:
    """Upload ``local`` to ``remote`` (relative to the root); seconds taken incl. connect."""
    size = local.stat().st_size

    async def work(ws: WebSocketConnection, root: str) -> None:
        offset, path = 0, f"{root}{remote}"
        with local.open("rb") as source:
            while offset < size:
                data = source.read(CHUNK)
                body = {"path": path, "size": size, "chunk": True, "offset": offset}
                await ws.send_message(
                    json.dumps(
                        {
                            "id": "7",
                            "type": "SFTP_DATA",
                            "cmd": "upload",
                            "data": json.dumps(body),
                            "raw": base64.b64encode(data).decode(),
                        }
                    )
                )
                await _reply(ws, "7")
                offset += len(data)
        merge = {"path": path, "merge": True}
        await ws.send_message(
            json.dumps({"id": "7", "type": "SFTP_DATA", "cmd": "upload", "data": json.dumps(merge)})
        )
        await _reply(ws, "7")

    return trio.run(_session, info, username, asset, work)


def download(info: SandboxInfo, username: str, asset: str, remote: str, local: Path) -> float:
    """Download ``remote`` into ``local``; seconds taken incl. connect."""

    async def work(ws: WebSocketConnection, root: str) -> None:
        body = {"path": f"{root}{remote}", "is_dir": False}
        await ws.send_message(
            json.dumps(
                {"id": "9", "type": "SFTP_DATA", "cmd": "download", "data": json.dumps(body)}
            )
        )
        with local.open("wb") as sink:
            while True:
                reply = await _reply(ws, "9")
                if reply["type"] == "SFTP_DATA":
                    return
                sink.write(base64.b64decode(reply.get("raw") or ""))

    return trio.run(_session, info, username, asset, work)
