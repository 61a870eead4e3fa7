"""``GET /api/v1/terminal/endpoints/smart/``: which KoKo host serves an asset (Luna's "smart
endpoint", ``apps/terminal/api/component/endpoint.py``).

The core matches an endpoint by the asset's labels, then by the asset's IP against endpoint
rules; otherwise the Default endpoint, whose empty ``host`` means "the host you reached the
core on". ``protocol`` is required (404 ``{"error": "Not found protocol query params"}``); the
asset comes from ``asset_id`` or a connection ``token``. The sandbox's rules are set through
the control API (``POST /_sandbox/endpoints/`` ``{"asset": name, "host": h, "https_port": p}``).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ._api import api_route
from ._web import Ctx

DEFAULT_ENDPOINT: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000001",
    "name": "Default",
    "host": "",
    "https_port": 443,
    "http_port": 80,
    "ssh_port": 2222,
    "rdp_port": 3389,
    "mysql_port": 33061,
    "mariadb_port": 33062,
    "postgresql_port": 54320,
    "redis_port": 63790,
    "sqlserver_port": 14330,
    "oracle_port": 15210,
    "vnc_port": 15900,
    "is_active": True,
    "comment": "",
}


async def smart_endpoint(ctx: Ctx) -> Response:
    """The endpoint for ``asset_id`` or ``token``'s asset, for ``protocol``."""
    if not ctx.query.get("protocol"):
        return JSONResponse({"error": "Not found protocol query params"}, status_code=404)
    asset_id = ctx.query.get("asset_id", "")
    token = ctx.state.connection_tokens.get(ctx.query.get("token", ""))
    if token is not None:
        asset_id = token.asset_id
    asset = ctx.state.directory.assets.get(asset_id)
    rule = ctx.state.zone_endpoints.get(asset.name) if asset is not None else None
    if rule is None:
        return JSONResponse(DEFAULT_ENDPOINT)
    return JSONResponse({**DEFAULT_ENDPOINT, **rule})


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    return [api_route("/api/v1/terminal/endpoints/smart/", {"GET": smart_endpoint})]
