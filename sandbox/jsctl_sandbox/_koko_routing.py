"""A JumpServer whose nginx does not route /koko/ to KoKo (control API switch).

Then the core answers those paths itself: HTTP gets Django's 404 page (`/koko/health/`
included) and a WebSocket upgrade reaches the core's Channels router, which fails with 500
(`No route found`) — verified on v4.10.16 without KoKo.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ._state import SandboxState
from ._web import html_404

KOKO_PREFIX = "/koko/"


class KokoRouting:
    """ASGI middleware: pass /koko/ through while routed, else answer as the bare core."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope``, answering /koko/ as a core without KoKo when switched off."""
        path: str = scope.get("path", "")
        if self.state.koko_routed or not path.startswith(KOKO_PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await html_404()(scope, receive, send)
            return
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        await receive()  # websocket.connect
        body = b"No route found for path " + path.lstrip("/").encode() + b"\n"
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/plain"),
                        (b"content-length", b"%d" % len(body)),
                    ],
                }
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1011})
