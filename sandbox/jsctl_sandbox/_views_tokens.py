"""REST views for connection tokens and the review tickets they may need (sheet 6)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ._api import api_route
from ._clock import format_datetime
from ._serialize import choice, related
from ._tokens import (
    REUSABLE_EXPIRATION,
    ConnectionToken,
    TokenRefused,
    new_token,
    open_ticket,
    render,
    validate_create,
)
from ._web import ApiError, Ctx, not_found, permission_denied

_MODEL = "ConnectionToken"


_TICKET_LABELS = {"connection_token": "Connection token", "login_confirm": "Login confirm"}


def _refusal(ctx: Ctx, exc: TokenRefused) -> ApiError:
    body = exc.body
    if ctx.state.version.flat_token_errors and isinstance(body, dict) and "code" not in body:
        msgs = [m for v in body.values() for m in (v if isinstance(v, list) else [v])]
        body = {"detail": "; ".join(str(m) for m in msgs)}
    elif ctx.state.version.flat_token_errors and isinstance(body, list):
        body = {"detail": "; ".join(body)}
    return ApiError(400, body)


def _own(ctx: Ctx, *, live_only: bool = True) -> ConnectionToken:
    token: ConnectionToken | None = ctx.state.connection_tokens.get(
        str(ctx.request.path_params["token_id"])
    )
    assert ctx.user is not None
    if token is None or token.user_id != ctx.user.id or (live_only and token.expired(ctx.now)):
        raise not_found(_MODEL)
    return token


def _create(ctx: Ctx, data: dict[str, Any]) -> Response:
    assert ctx.user is not None
    state = ctx.state
    try:
        asset, _grant, alias = validate_create(state, ctx.user, data)
    except TokenRefused as exc:
        raise _refusal(ctx, exc) from None
    review = state.acl_review_tokens
    if review and ctx.query.get("create_ticket") not in ("1", "true"):
        raise ApiError(400, {"code": "acl_review", "detail": "ACL action is review"})
    token = new_token(state, ctx.user, asset, alias, data, ctx.client_ip)
    if review:
        open_ticket(state, token, ctx.user, asset)
    state.counters["connection_tokens"] += 1
    return JSONResponse(render(state, token), status_code=201)


async def create(ctx: Ctx) -> Response:
    """POST: create a token for (asset, account alias, protocol, connect method)."""
    return _create(ctx, await ctx.data())


async def list_tokens(ctx: Ctx) -> Response:
    """GET: the caller's unexpired tokens, newest expiry first."""
    from ._paging import paginate

    assert ctx.user is not None
    uid = ctx.user.id
    tokens = [
        t
        for t in ctx.state.connection_tokens.values()
        if t.user_id == uid and not t.expired(ctx.now)
    ]
    tokens.sort(key=lambda t: t.date_expired, reverse=True)
    return paginate(ctx, tokens, lambda t: render(ctx.state, t))


async def detail(ctx: Ctx) -> Response:
    """GET <id>/: one unexpired own token."""
    return JSONResponse(render(ctx.state, _own(ctx)))


async def client_url(ctx: Ctx) -> Response:
    """GET <id>/client-url/: the jms:// URL a native client launcher opens (capture 47)."""
    token = _own(ctx)
    asset = ctx.state.directory.assets.get(token.asset_id)
    when = time.strftime("%Y-%m-%d_%H:%M:%S", time.gmtime(token.date_created))
    host = ctx.host.rsplit(":", 1)[0] if ctx.host.count(":") == 1 else ctx.host
    payload = {
        "version": 2,
        "id": token.id,
        "value": token.value,
        "name": quote(f"{token.account}@{asset.name if asset else ''}[{when}]", safe=""),
        "protocol": token.protocol,
        "token": {"id": token.id, "value": token.value},
        "file": {},
        "command": "",
        "asset": {
            "id": token.asset_id,
            "category": "host",
            "type": asset.platform_type if asset else "linux",
            "name": asset.name if asset else "",
            "address": asset.address if asset else "",
            "info": {},
        },
        "endpoint": {"host": host, "port": 2222},
    }
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    return JSONResponse({"url": f"jms://{encoded}"})


async def expire(ctx: Ctx) -> Response:
    """PATCH <id>/expire/: expire now (204), 404 when already expired."""
    _own(ctx).date_expired = ctx.now
    return Response(status_code=204)


async def reuse(ctx: Ctx) -> Response:
    """PATCH <id>/reuse/: only when the global setting allows reusable tokens."""
    token = _own(ctx)
    if not ctx.state.options.connection_token_reusable:
        raise ApiError(
            400, ["Reusable connection token is not allowed, global setting not enabled"]
        )
    data = await ctx.data()
    token.is_reusable = bool(data.get("is_reusable", True))
    if token.is_reusable:
        token.date_expired = token.date_created + REUSABLE_EXPIRATION
    return JSONResponse(render(ctx.state, token))


async def exchange(ctx: Ctx) -> Response:
    """POST exchange/: a fresh token like an old one (expired ones too)."""
    data = await ctx.data()
    old = ctx.state.connection_tokens.get(str(data.get("id", "")))
    assert ctx.user is not None
    if old is None or old.user_id != ctx.user.id:
        raise not_found(_MODEL)
    body = {
        "asset": old.asset_id,
        "account": old.account,
        "protocol": old.protocol,
        "connect_method": old.connect_method,
        "input_username": old.input_username,
        "connect_options": old.connect_options,
        "is_reusable": old.is_reusable,
    }
    return _create(ctx, body)


def _no_delete_for_users(ctx: Ctx) -> None:
    if ctx.request.method == "DELETE" and ctx.user is not None and not ctx.user.is_superuser:
        raise permission_denied()


def _ticket(ctx: Ctx) -> dict[str, Any]:
    ticket = ctx.state.tickets.get(str(ctx.request.path_params["ticket_id"]))
    assert ctx.user is not None
    if ticket is None or (ticket.applicant_id != ctx.user.id and not ctx.user.is_superuser):
        raise not_found("Ticket")
    applicant = ctx.state.directory.users[ticket.applicant_id]
    return {
        "id": ticket.id,
        "title": ticket.title,
        "type": choice(ticket.kind, _TICKET_LABELS.get(ticket.kind, ticket.kind)),
        "status": choice(ticket.status),
        "state": choice(ticket.state),
        "applicant": related(applicant.id, applicant.display),
        "date_created": format_datetime(ticket.date_created),
        "serial_num": ticket.id[:8],
    }


async def ticket_detail(ctx: Ctx) -> Response:
    """GET a review ticket."""
    return JSONResponse(_ticket(ctx))


async def ticket_close(ctx: Ctx) -> Response:
    """PUT close/: the applicant withdraws the request."""
    _ticket(ctx)
    ticket = ctx.state.tickets[str(ctx.request.path_params["ticket_id"])]
    if ticket.status == "open":
        ticket.status, ticket.state = "closed", "closed"
    return JSONResponse(_ticket(ctx))


def routes() -> list[BaseRoute]:
    """Routes under both mount points of the connection-token viewset."""
    out: list[BaseRoute] = []
    for base in ("/api/v1/authentication/connection-token/", "/api/v1/users/connection-token/"):
        out += [
            api_route(base, {"GET": list_tokens, "POST": create}, rbac=_no_delete_for_users),
            api_route(base + "exchange/", {"POST": exchange}),
            api_route(base + "{token_id:uuid}/", {"GET": detail}, rbac=_no_delete_for_users),
            api_route(base + "{token_id:uuid}/expire/", {"PATCH": expire}),
            api_route(base + "{token_id:uuid}/client-url/", {"GET": client_url}),
            api_route(base + "{token_id:uuid}/reuse/", {"PATCH": reuse}),
        ]
    out += [
        api_route("/api/v1/tickets/tickets/{ticket_id:uuid}/", {"GET": ticket_detail}),
        api_route("/api/v1/tickets/tickets/{ticket_id:uuid}/close/", {"PUT": ticket_close}),
    ]
    return out
