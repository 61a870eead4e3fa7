"""The sandbox's routes never compete for a request, so their order only sets how fast a
request finds its route (the terminals' routes come first)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute

from jsctl_sandbox._state import SandboxOptions
from jsctl_sandbox.app import build_app
from jsctl_sandbox.server import prepare

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes(tmp_path: Path) -> list[BaseRoute]:
    state, _, _ = prepare(SandboxOptions(http=True, data_dir=tmp_path))
    app: Any = build_app(state)
    while not isinstance(app, Starlette):  # the middlewares in front of it
        app = app.app
    return list(app.router.routes)


def _sample(path: str) -> str:
    """A concrete path the pattern takes (a uuid where it wants one)."""
    path = re.sub(r"\{\w+:uuid\}", str(uuid.UUID(int=7)), path)
    return re.sub(r"\{\w+(:\w+)?\}", "self", path)


def _scopes(path: str) -> list[dict[str, Any]]:
    http = [{"type": "http", "path": path, "method": m, "root_path": ""} for m in _METHODS]
    return [*http, {"type": "websocket", "path": path, "root_path": ""}]


def test_no_two_routes_take_the_same_request(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    paths = [r.path for r in routes if isinstance(r, Route | WebSocketRoute)]
    assert len(paths) == len(routes) > 50
    for path in paths:
        for scope in _scopes(_sample(path)):
            full = [r for r in routes if r.matches(scope)[0] == Match.FULL]
            assert len(full) <= 1, (scope, [getattr(r, "path", r) for r in full])
            # Several routes for one pattern (split by method) keep their own order.
            some = {getattr(r, "path", "") for r in routes if r.matches(scope)[0] != Match.NONE}
            assert len(some) <= 1, (scope, some)


def test_what_every_terminal_asks_is_found_first(tmp_path: Path) -> None:
    paths = [getattr(r, "path", "") for r in _routes(tmp_path)]
    hot = [
        "/koko/ws/terminal/",
        "/api/v1/perms/users/{user}/assets/{asset_id:uuid}/",
        "/api/v1/authentication/connection-token/",
        "/api/v1/terminal/endpoints/smart/",
    ]
    assert max(paths.index(p) for p in hot) < 30
