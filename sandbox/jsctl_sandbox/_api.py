"""The REST view wrapper: authenticators, CSRF, throttling, DRF error shapes, method dispatch."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._restauth import authenticate, challenge_header, not_authenticated
from ._web import (
    ApiError,
    Ctx,
    ServerErrorPage,
    View,
    detail_error,
    error_response,
    finalize,
    html_500,
    make_ctx,
)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def api_route(
    path: str,
    handlers: Mapping[str, View],
    *,
    login_required: bool = True,
    throttled: bool = True,
    rbac: Callable[[Ctx], None] | None = None,
) -> Route:
    """A DRF-like API route; ``handlers`` maps HTTP methods to views."""

    async def endpoint(request: Request) -> Response:
        ctx = make_ctx(request)
        ctx.state.counters["api_requests"] += 1
        try:
            try:
                authenticate(ctx)
            except ApiError as exc:  # DRF: an authentication failure carries the challenge
                if exc.status == 401:
                    exc.headers.setdefault("WWW-Authenticate", challenge_header(ctx))
                raise
            if login_required and ctx.user is None:
                raise not_authenticated(ctx)
            if rbac is not None:
                rbac(ctx)
            if throttled:
                anonymous = ctx.user is None
                wait = ctx.state.throttle.check(
                    ctx.client_ip if anonymous else ctx.user.id,  # type: ignore[union-attr]
                    anonymous,
                )
                if wait is not None:
                    raise detail_error(
                        429,
                        f"Request was throttled. Expected available in {wait} seconds.",
                        "throttled",
                        **{"Retry-After": str(wait)},
                    )
            view = handlers.get(request.method)
            if view is None:
                allowed = ", ".join([*handlers, "HEAD", "OPTIONS"])
                raise detail_error(
                    405,
                    f'Method "{request.method}" not allowed.',
                    "method_not_allowed",
                    Allow=allowed,
                )
            response = await view(ctx)
        except ApiError as exc:
            response = error_response(exc)
        except ServerErrorPage:
            response = html_500()
        return finalize(ctx, response, api=True)

    return Route(path, endpoint, methods=ALL_METHODS)
