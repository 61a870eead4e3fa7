"""Assembles the sandbox's ASGI application from its route modules."""

from __future__ import annotations

import importlib
import logging

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import (
    _control,
    _control_fidelity,
    _login_redirects,
    _views_assets_admin,
    _views_auth_api,
    _views_endpoints,
    _views_login,
    _views_perms,
    _views_settings,
    _views_tokens,
    _views_users,
)
from ._api import ALL_METHODS
from ._faults import FaultMiddleware
from ._koko_auth import create_ticket_endpoint
from ._koko_routing import KokoRouting
from ._state import SandboxState
from ._web import html_404
from .backend import SandboxKokoBackend

log = logging.getLogger("jsctl_sandbox")


def _koko_routes() -> list[BaseRoute]:
    """The KoKo WebSocket routes, if their module (written separately) is present."""
    try:
        terminal = importlib.import_module("jsctl_sandbox.koko_terminal")
    except ImportError as exc:
        log.warning("KoKo terminal endpoint unavailable: %s", exc)
        return []
    return [
        WebSocketRoute("/koko/ws/terminal/", terminal.terminal_endpoint),
        # v5 KoKo's ticket endpoint; on v4 the path answers gin's 404 as a v4 KoKo does.
        Route("/koko/api/connect-ticket/", create_ticket_endpoint, methods=ALL_METHODS),
    ]


# --- KoKo file endpoints (koko_sftp.py, koko_elfinder.py) --------------------------------
def _koko_file_routes() -> list[BaseRoute]:
    """The KoKo file routes: v4 JSON file manager and elFinder (socket + HTTP connector)."""
    routes: list[BaseRoute] = []
    try:
        sftp = importlib.import_module("jsctl_sandbox.koko_sftp")
        routes.append(WebSocketRoute("/koko/ws/sftp/", sftp.sftp_endpoint))
        elfinder = importlib.import_module("jsctl_sandbox.koko_elfinder")
    except ImportError as exc:
        log.warning("KoKo file endpoints unavailable: %s", exc)
        return routes
    return [
        *routes,
        WebSocketRoute("/koko/ws/elfinder/", elfinder.elfinder_socket_endpoint),
        Route(
            "/koko/elfinder/connector/{anything}/",
            elfinder.connector_endpoint,
            methods=["GET", "POST"],
        ),
    ]


# --- end of KoKo file endpoints --------------------------------------------------------


class _NotFound:
    """Django's fallbacks: APPEND_SLASH 301 when the slashed path exists, else an HTML 404."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        path: str = scope["path"]
        if not path.endswith("/"):
            slashed = {**scope, "path": path + "/"}
            if any(route.matches(slashed)[0] != Match.NONE for route in self.routes):
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + "/" + (f"?{query}" if query else "")
                await RedirectResponse(target, status_code=301)(scope, receive, send)
                return
        await html_404()(scope, receive, send)


class _BufferRequestBody:
    """Take in the whole request body before the app sees the request, as nginx does.

    Django answers a redirect, a 404 or a refusal without reading the body; in front of it nginx
    has buffered the request, so the connection stays usable. Without this, hypercorn closes a
    keep-alive connection whose body arrives after the answer, and the client's next request on
    it fails.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve ``scope`` with its body already received (replayed to the app in order)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


def build_app(state: SandboxState) -> ASGIApp:
    """The complete ASGI app for ``state`` (with the fault middleware in front)."""
    # Starlette tries the routes in order (a regular expression each), so what every terminal
    # asks comes first: KoKo, then the asset detail, connection token and smart endpoint (each
    # request walked ~50 routes before). No two routes take the same request (a test checks),
    # so the order changes only how long the walk is.
    routes: list[BaseRoute] = [
        *_koko_routes(),
        *_views_perms.routes(),
        *_views_tokens.routes(),
        *_views_endpoints.routes(),
        *_views_settings.routes(),
        *_views_users.routes(),
        *_views_auth_api.routes(),
        *_views_login.routes,
        *_login_redirects.routes,
        *_views_assets_admin.routes(),
        *_control.routes(),
        *_control_fidelity.routes(),
        *_koko_file_routes(),
    ]
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False
    app.router.default = _NotFound(routes)
    app.state.sandbox = state
    app.state.koko_backend = SandboxKokoBackend(state)
    return _BufferRequestBody(FaultMiddleware(KokoRouting(app, state), state.faults))
