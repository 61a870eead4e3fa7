"""KoKo's elFinder file manager: the WebSocket that holds the volume, and its HTTP connector.

``/koko/ws/elfinder/?type=elfinder&target_id=..&token=..`` consumes the token and sends
CONNECT whose id is the ``sid``; while that socket lives,
``/koko/elfinder/connector/<anything>/?sid=..&cmd=..`` (GET or POST, same cookies) runs
elFinder commands on the volume (sheet 8.1). Closing the socket ends the volume.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import trio
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.websockets import WebSocket

from jsctl_sandbox._files_elfinder_cmds import Reply, run_command
from jsctl_sandbox._files_elfinder_model import render, volume_id
from jsctl_sandbox._files_elfinder_view import (
    Download,
    ElfinderRequest,
    Forbidden,
    NoContent,
    UploadPart,
    VolumeView,
)
from jsctl_sandbox._files_go import go_json
from jsctl_sandbox._files_socket import FileSocket, peer_ip
from jsctl_sandbox._koko_io import accept_koko_socket
from jsctl_sandbox.koko_contract import KokoBackend

__all__ = ["BAD_REQUEST", "GONE", "connector_endpoint", "elfinder_socket_endpoint"]

BAD_REQUEST = "invalid elfinder request"
GONE = "ws already disconnected"
_READ_CHUNK = 256 * 1024
_FORM_LIMIT = 10_000  # fields/files per request (Starlette's default of 1000 is lower)


@dataclass
class _Session:
    """A live elFinder volume; commands on it run one at a time."""

    view: VolumeView
    lock: trio.Lock


def _sessions(app_state: Any) -> dict[str, _Session]:
    """Live volumes by sid, kept on the app (created on first use)."""
    sessions: dict[str, _Session] | None = getattr(app_state, "elfinder_sessions", None)
    if sessions is None:
        sessions = app_state.elfinder_sessions = {}
    return sessions


async def elfinder_socket_endpoint(websocket: WebSocket) -> None:
    """Serve one ``/koko/ws/elfinder/`` socket using ``websocket.app.state.koko_backend``."""
    accepted = await accept_koko_socket(websocket)
    if accepted is not None:
        await _ElfinderSocket(websocket, *accepted).run()


class _ElfinderSocket(FileSocket):
    """Registers the volume under its CONNECT id; client messages are ignored."""

    _registered = False

    async def opened(self, nursery: trio.Nursery) -> None:
        assert self.volume is not None
        vid = volume_id(self.user.username, peer_ip(self.websocket))
        view = VolumeView(self.volume, vid)
        _sessions(self.websocket.app.state)[self.ws_id] = _Session(view, trio.Lock())
        self._registered = True

    def closed(self) -> None:
        if self._registered:
            session = _sessions(self.websocket.app.state).pop(self.ws_id, None)
            if session is not None:
                session.view.close()


def _collect(values: dict[str, list[str]], uploads: list[UploadPart], form: FormData) -> None:
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "upload[]":
                uploads.append(UploadPart(value.filename or "", value.file))
        else:
            values.setdefault(key, []).append(value)


async def connector_endpoint(request: Request) -> Response:
    """The elFinder HTTP connector: cookie check, sid lookup, then the command."""
    backend: KokoBackend = request.app.state.koko_backend
    refused = backend.authenticate(request)
    if isinstance(refused, Response):
        return refused
    values: dict[str, list[str]] = {}
    uploads: list[UploadPart] = []
    multipart = request.headers.get("content-type", "").startswith("multipart/")
    if request.method == "GET" or multipart:  # Go puts the query first for these
        for key, value in request.query_params.multi_items():
            values.setdefault(key, []).append(value)
    try:
        form = await request.form(max_files=_FORM_LIMIT, max_fields=_FORM_LIMIT)
    except (HTTPException, MultiPartException):
        return PlainTextResponse(BAD_REQUEST, status_code=400)
    try:
        _collect(values, uploads, form)
        if request.method == "POST" and not multipart:
            for key, value in request.query_params.multi_items():
                values.setdefault(key, []).append(value)
        return await _run(backend, request, ElfinderRequest(values, uploads))
    finally:
        await form.close()


async def _run(backend: KokoBackend, request: Request, req: ElfinderRequest) -> Response:
    session = _sessions(request.app.state).get(req.get("sid"))
    if session is None:
        return PlainTextResponse(GONE, status_code=400)
    settings = backend.settings
    async with session.lock:
        volume = session.view.volume
        volume.session_over(settings.idle_timeout_s, settings.max_session_s)
        volume.touch()
        reply = await trio.to_thread.run_sync(run_command, session.view, req)
    response = _response(reply)
    if req.get("cmd") == "file" and req.get("cpath"):
        # elFinder's download-finished marker cookie.
        cookie = f"elfdl{req.get('reqid')}=1; Path={req.get('cpath')}"
        response.headers.append("set-cookie", _raw_header(cookie))
    return response


def _response(reply: Reply) -> Response:
    if isinstance(reply, Download):
        return _download(reply)
    if isinstance(reply, Forbidden):
        return PlainTextResponse(reply.text, status_code=403)
    if isinstance(reply, NoContent):
        return Response(status_code=204)
    return Response(go_json(render(reply)), media_type="application/json")


def _raw_header(value: str) -> str:
    """A header value whose wire bytes are UTF-8, as Go writes them (ASGI sends latin-1)."""
    return value.encode().decode("latin-1")


async def _chunks(reader: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await trio.to_thread.run_sync(reader.read, _READ_CHUNK):
            yield chunk
    finally:
        reader.close()


def _download(reply: Download) -> Response:
    name = reply.filename
    # KoKo's connector really writes `filename==` for inline views.
    disposition = (
        f'attachment; filename="{name}"' if reply.attachment else f'inline; filename=="{name}"'
    )
    headers = {"Content-Disposition": _raw_header(disposition)}
    media_type = reply.media_type or mimetypes.guess_type(name)[0]
    return StreamingResponse(_chunks(reply.reader), headers=headers, media_type=media_type)
