"""Profile, organisations, admin unblock and health endpoints."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._api import api_route
from ._clock import format_datetime
from ._model import ROOT_ORG_ID, ROOT_ORG_NAME, ROOT_ORG_WORKBENCH_NAME, SYSTEM_ORG_ID, Org
from ._paging import paginate
from ._restauth import not_authenticated
from ._serialize import org_info, profile
from ._web import Ctx, detail_error, not_found, permission_denied


def profile_body(ctx: Ctx, user_id: str) -> Response:
    """A user's profile JSON."""
    user = ctx.state.directory.users[user_id]
    return JSONResponse(profile(user, login_blocked=ctx.state.guard.is_blocked(user.username)))


async def get_profile(ctx: Ctx) -> Response:
    """GET profile: the caller, or the owner of ?token=<connection token> when anonymous."""
    if ctx.user is not None:
        return profile_body(ctx, ctx.user.id)
    token = ctx.state.connection_tokens.get(ctx.query.get("token", ""))
    if token is None:
        raise not_authenticated(ctx)
    if token.expired(ctx.now):
        raise detail_error(
            403,
            f"Connection token expired at: {format_datetime(token.date_expired)}",
            "permission_denied",
        )
    return profile_body(ctx, token.user_id)


async def permissions(ctx: Ctx) -> Response:
    """GET profile/permissions/: the user's orgs per console; the workbench also lists the ROOT
    org as `All organizations` (verified on v4.10.16, community edition)."""
    assert ctx.user is not None
    orgs = list(ctx.state.directory.orgs.values())
    workbench = [org_info(o) for o in [Org(ROOT_ORG_ID, ROOT_ORG_WORKBENCH_NAME), *orgs]]
    admin = ctx.user.is_superuser
    console = [
        org_info(o) for o in [Org(ROOT_ORG_ID, ROOT_ORG_NAME), *orgs, Org(SYSTEM_ORG_ID, "SYSTEM")]
    ]
    return JSONResponse(
        {
            "id": ctx.user.id,
            "username": ctx.user.username,
            "pam_orgs": console if admin else [],
            "console_orgs": console if admin else [],
            "audit_orgs": console if admin else [],
            "workbench_orgs": workbench,
            "perms": [
                "rbac.view_workbench",
                "perms.view_myassets",
                "authentication.add_connectiontoken",
            ]
            + (
                ["rbac.view_console", "users.change_user", "orgs.view_organization"]
                if admin
                else []
            ),
        }
    )


async def current_org(ctx: Ctx) -> Response:
    """GET orgs/orgs/current/."""
    return JSONResponse({**org_info(ctx.org), "comment": ""})


async def list_orgs(ctx: Ctx) -> Response:
    """GET orgs/orgs/: RBAC admins only."""
    assert ctx.user is not None
    if not ctx.user.is_superuser:
        raise permission_denied()
    return JSONResponse([{**org_info(o), "comment": ""} for o in ctx.state.directory.orgs.values()])


async def list_users(ctx: Ctx) -> Response:
    """GET users/users/ (admins only; filters `username` and `search`)."""
    assert ctx.user is not None
    if not ctx.user.is_superuser:
        raise permission_denied()
    users = list(ctx.state.directory.users.values())
    if "username" in ctx.query:
        users = [u for u in users if u.username == ctx.query["username"]]
    term = ctx.query.get("search", "").lower()
    users = [u for u in users if term in f"{u.username} {u.name} {u.email}".lower()]
    guard = ctx.state.guard
    return paginate(ctx, users, lambda u: profile(u, login_blocked=guard.is_blocked(u.username)))


async def unblock(ctx: Ctx) -> Response:
    """PATCH users/users/<id>/unblock/: clear a user's login lock (admins only)."""
    assert ctx.user is not None
    if not ctx.user.is_superuser:
        raise permission_denied()
    user = ctx.state.directory.users.get(str(ctx.request.path_params["user_id"]))
    if user is None:
        raise not_found("User")
    ctx.state.guard.unblock(user.username)
    return profile_body(ctx, user.id)


async def health(ctx: Ctx) -> Response:
    """Core health: always healthy."""
    return JSONResponse(
        {
            "status": True,
            "db_status": True,
            "db_time": 0.001,
            "redis_status": True,
            "redis_time": 0.0005,
            "time": int(ctx.now),
        }
    )


async def koko_health(request: Request) -> Response:
    """KoKo health (no auth, not DRF)."""
    state = request.app.state.sandbox
    uptime = int(state.clock.now() - state.started_at)
    return JSONResponse(
        {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime()),
            "uptime": f"{uptime}s",
        }
    )


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    return [
        api_route("/api/v1/users/profile/", {"GET": get_profile}, login_required=False),
        api_route("/api/v1/users/profile/permissions/", {"GET": permissions}),
        api_route("/api/v1/orgs/orgs/current/", {"GET": current_org}),
        api_route("/api/v1/orgs/orgs/", {"GET": list_orgs}),
        api_route("/api/v1/users/users/", {"GET": list_users}),
        api_route("/api/v1/users/users/{user_id:uuid}/unblock/", {"PATCH": unblock}),
        api_route("/api/health/", {"GET": health}, login_required=False),
        api_route("/api/v1/health/", {"GET": health}, login_required=False),
        Route("/koko/health/", koko_health),
    ]
