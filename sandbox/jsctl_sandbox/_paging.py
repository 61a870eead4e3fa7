"""DRF limit/offset pagination: a bare array without `limit`, a page object with it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from ._web import Ctx

T = TypeVar("T")


def _int(value: str | None, default: int) -> int:
    try:
        return max(0, int(value)) if value is not None else default
    except ValueError:
        return default


def _page_url(ctx: Ctx, offset: int, limit: int) -> str:
    params = dict(ctx.request.query_params)
    params["limit"] = str(limit)
    if offset > 0:
        params["offset"] = str(offset)
    else:
        params.pop("offset", None)
    return ctx.absolute(f"{ctx.path}?{urlencode(params)}")


def paginate(ctx: Ctx, items: Sequence[T], render: Callable[[T], Any]) -> Response:
    """Render ``items`` as the list endpoints do."""
    version = ctx.state.version
    limit = _int(ctx.query.get("limit"), 0)
    if limit == 0:
        cap = version.unpaged_cap
        shown = items if cap is None else items[:cap]
        return JSONResponse([render(i) for i in shown])
    limit = min(limit, version.max_limit)
    offset = _int(ctx.query.get("offset"), 0)
    page = items[offset : offset + limit]
    count = len(items)
    next_url = _page_url(ctx, offset + limit, limit) if offset + limit < count else None
    prev_url = _page_url(ctx, max(0, offset - limit), limit) if offset > 0 else None
    return JSONResponse(
        {
            "count": count,
            "next": next_url,
            "previous": prev_url,
            "results": [render(i) for i in page],
        }
    )
