"""JSON auth endpoints: token login, MFA challenge, user-session, confirm, access keys."""

from __future__ import annotations

import secrets
import string
import uuid
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from . import _login_review as review
from ._api import api_route
from ._clock import format_datetime
from ._login_core import (
    LoginRejected,
    half_login_user,
    mfa_choices,
    mfa_passed,
    start_half_login,
    totp_ok,
)
from ._model import AccessKey, User
from ._paging import paginate
from ._restauth import not_authenticated
from ._serialize import token_login_user
from ._sessions import TOKEN_SESSION_AGE
from ._state import TOKEN_EXPIRATION, BearerToken
from ._web import ApiError, Ctx, detail_error, not_found

MAX_ACCESS_KEYS = 10
CONFIRM_LEVELS = {"relogin": 1, "password": 2, "mfa": 3}
CONFIRM_TTL = {"relogin": 300, "password": 300, "mfa": 3600}
_NO_PASSWORD = "The username or password you entered is incorrect, please enter it again."


def _rejected(exc: LoginRejected) -> ApiError:
    return ApiError(400, {"error": exc.error, "msg": exc.msg})


def _issue_bearer(ctx: Ctx, user: User) -> BearerToken:
    tokens = ctx.state.bearer_tokens
    token = next(
        (t for t in tokens.values() if t.user_id == user.id and t.ip == ctx.client_ip), None
    )
    if token is None:
        token = BearerToken(str(uuid.uuid4()), user.id, ctx.client_ip, 0.0)
        tokens[token.key] = token
    token.expires_at = ctx.now + TOKEN_EXPIRATION
    return token


async def token_login(ctx: Ctx) -> Response:
    """POST auth/ (tokens/): password step, MFA gate, then a Bearer token (201)."""
    state, session = ctx.state, ctx.session
    data = await ctx.data()
    username, password = str(data.get("username") or ""), str(data.get("password") or "")
    try:
        if username or password:
            user = state.guard.check_password(username, password)
            if user.need_update_password:  # PasswordNeedUpdate is not handled by the view
                raise ApiError(500, {"error": "Server internal error"})
            session.age = TOKEN_SESSION_AGE
            start_half_login(session, user, ctx.now)
            review.mark_if_reviewed(state, session, user)
            session.set("auth_via_token", True)
        else:
            found = half_login_user(state, session) if session.get("auth_via_token") else None
            if found is None:
                raise LoginRejected("password_failed", _NO_PASSWORD)
            user = found
    except LoginRejected as exc:
        raise _rejected(exc) from None
    if not mfa_passed(session, user):
        return JSONResponse(
            {
                "error": "mfa_required",
                "msg": "MFA required",
                "data": {
                    "choices": mfa_choices(user),
                    "url": "/api/v1/authentication/mfa/challenge/",
                },
            }
        )
    pending = review.review_if_needed(state, session, user)
    if pending is not None:
        return JSONResponse(pending)
    for name in ("auth_user_id", "auth_password_at", "auth_via_token"):
        session.pop(name)
    review.forget(session)
    token = _issue_bearer(ctx, user)
    state.counters["token_logins"] += 1
    user.last_login = ctx.now
    blocked = state.guard.is_blocked(user.username)
    return JSONResponse(
        {
            "token": token.key,
            "keyword": "Bearer",
            "date_expired": format_datetime(token.expires_at),
            "user": token_login_user(user, login_blocked=blocked),
        },
        status_code=201,
    )


def _mfa_user(ctx: Ctx, username: str | None) -> User | None:
    if username:
        return ctx.state.directory.user_by_login(username)
    return half_login_user(ctx.state, ctx.session)


async def send_code(ctx: Ctx) -> Response:
    """POST mfa/send-code/: nothing to send for OTP, but the answer is still 201."""
    data = await ctx.data()
    mfa_type = str(data.get("type", ""))
    user = _mfa_user(ctx, str(data.get("username") or "") or None)
    if user is None or mfa_type not in mfa_choices(user):
        raise ApiError(400, {"error": f"Current user not support mfa type: {mfa_type}"})
    return JSONResponse({"type": mfa_type, "username": user.username}, status_code=201)


async def mfa_challenge(ctx: Ctx) -> Response:
    """POST mfa/challenge/: verify the code of a half-logged-in session."""
    user = half_login_user(ctx.state, ctx.session)
    if user is None:
        raise not_authenticated(ctx)
    data = await ctx.data()
    try:
        ctx.state.guard.check_mfa(user, str(data.get("type", "otp")), str(data.get("code", "")))
    except LoginRejected as exc:
        raise ApiError(401, {"error": exc.error, "msg": exc.msg}) from None
    ctx.session.set("auth_mfa", user.username)
    return JSONResponse({"msg": "ok"})


async def user_session_get(ctx: Ctx) -> Response:
    """GET user-session/: the keep-alive probe (body depends on the version)."""
    if not ctx.state.version.user_session_has_body:
        return Response(b"", status_code=200)
    if ctx.user is None:
        return Response(b"", status_code=403)
    return JSONResponse({"ok": True})


async def user_session_delete(ctx: Ctx) -> Response:
    """DELETE user-session/: harmless with default settings."""
    return JSONResponse({"ok": True})


def _confirm_content(user: User) -> dict[str, Any]:
    if user.mfa_enabled:
        return {
            "confirm_type": "mfa",
            "content": [
                {
                    "name": "otp",
                    "disabled": False,
                    "display_name": "OTP",
                    "placeholder": "OTP verification code",
                }
            ],
        }
    return {
        "confirm_type": "password",
        "content": [
            {
                "name": "password",
                "disabled": False,
                "display_name": "Password",
                "placeholder": "Password",
            }
        ],
    }


async def confirm_get(ctx: Ctx) -> Response:
    """GET confirm/: which confirmation the user can give (mfa preferred)."""
    assert ctx.user is not None
    return JSONResponse(_confirm_content(ctx.user))


async def confirm_post(ctx: Ctx) -> Response:
    """POST confirm/: an MFA code (MFA users) or the password; answers the string "ok"."""
    assert ctx.user is not None
    user, state = ctx.user, ctx.state
    data = await ctx.data()
    confirm_type = str(data.get("confirm_type") or "password")
    if confirm_type not in CONFIRM_LEVELS:
        raise ApiError(400, {"confirm_type": [f'"{confirm_type}" is not a valid choice.']})
    secret = str(data.get("secret_key") or "")
    if user.mfa_enabled:
        mfa_type = data.get("mfa_type")
        if not mfa_type:
            raise ApiError(500, {"error": "Server internal error"})
        if mfa_type != "otp" or not totp_ok(user.totp_secret or "", secret, ctx.now):
            raise ApiError(400, {"error": "OTP code invalid, or server time error"})
    else:
        password = state.password_key.decrypt_field(secret, state.version.password_separator)
        if not secrets.compare_digest(password.encode(), user.password.encode()):
            raise ApiError(
                400,
                {
                    "error": "Authentication failed (before login check failed): "
                    "The password you entered is incorrect"
                },
            )
    ctx.session.set("confirm_level", CONFIRM_LEVELS[confirm_type])
    ctx.session.set("confirm_until", ctx.now + CONFIRM_TTL[confirm_type])
    return JSONResponse("ok")


def require_confirm(ctx: Ctx, level: str) -> None:
    """412 unless the session confirmed at ``level`` or higher recently."""
    current = int(ctx.session.get("confirm_level") or 0)
    until = float(ctx.session.get("confirm_until") or 0.0)
    if current < CONFIRM_LEVELS[level] or until <= ctx.now:
        raise ApiError(
            412,
            {
                "type": "user_confirm_required",
                "code": level,
                "detail": "This action require confirm current user",
            },
        )


async def confirm_check(ctx: Ctx) -> Response:
    """GET confirm/check/?confirm_type=..: "ok" or 412."""
    level = ctx.query.get("confirm_type", "relogin")
    require_confirm(ctx, level if level in CONFIRM_LEVELS else "relogin")
    return JSONResponse("ok")


def _key_json(key: AccessKey, *, secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "is_active": key.is_active,
        "date_created": format_datetime(key.date_created),
        "date_last_used": format_datetime(key.date_last_used),
        "ip_group": key.ip_group,
    }
    if secret:
        body["secret"] = key.secret
    return body


async def keys_list(ctx: Ctx) -> Response:
    """GET access-keys/."""
    assert ctx.user is not None
    return paginate(ctx, ctx.user.access_keys, _key_json)


async def keys_create(ctx: Ctx) -> Response:
    """POST access-keys/: gated by a recent confirmation; at most 10 keys."""
    assert ctx.user is not None
    require_confirm(ctx, "password")
    if len(ctx.user.access_keys) >= MAX_ACCESS_KEYS:
        raise ApiError(400, [f"Access keys can be created at most {MAX_ACCESS_KEYS}"])
    data = await ctx.data()
    ip_group = data.get("ip_group") or ["*"]
    alphabet = string.ascii_letters + string.digits
    key = AccessKey(
        id=str(uuid.uuid4()),
        secret="".join(secrets.choice(alphabet) for _ in range(36)),
        date_created=ctx.now,
        ip_group=[str(i) for i in ip_group],
    )
    ctx.user.access_keys.append(key)
    return JSONResponse(_key_json(key, secret=True), status_code=201)


def _own_key(ctx: Ctx) -> AccessKey:
    assert ctx.user is not None
    key_id = str(ctx.request.path_params["key_id"])
    key = next((k for k in ctx.user.access_keys if k.id == key_id), None)
    if key is None:
        raise not_found("AccessKey")
    return key


async def key_detail(ctx: Ctx) -> Response:
    """GET access-keys/<id>/."""
    return JSONResponse(_key_json(_own_key(ctx)))


async def key_update(ctx: Ctx) -> Response:
    """PATCH access-keys/<id>/: is_active and/or ip_group."""
    key = _own_key(ctx)
    data = await ctx.data()
    if "is_active" in data:
        key.is_active = bool(data["is_active"])
    if "ip_group" in data:
        key.ip_group = [str(i) for i in data["ip_group"]]
    return JSONResponse(_key_json(key))


async def key_delete(ctx: Ctx) -> Response:
    """DELETE access-keys/<id>/."""
    key = _own_key(ctx)
    assert ctx.user is not None
    ctx.user.access_keys.remove(key)
    return Response(status_code=204)


async def login_ticket_status(ctx: Ctx) -> Response:
    """GET login-confirm-ticket/status/: ok, still waiting, or ended (which logs out)."""
    session = ctx.session
    ctx.state.counters["login_review_polls"] += 1
    outcome = review.ticket_outcome(ctx.state, session)
    if outcome is None:
        return JSONResponse({"msg": "ok"})
    if outcome["error"] == "login_confirm_error":
        # The half-finished login is logged out; only the ticket reference survives.
        ticket_id = session.get(review.TICKET_KEY)
        session.flush()
        if ticket_id:
            session.set(review.TICKET_KEY, ticket_id)
    return JSONResponse(outcome)


async def login_ticket_cancel(ctx: Ctx) -> Response:
    """DELETE login-confirm-ticket/status/: withdraw the ticket (200 with an empty string)."""
    if not review.cancel(ctx.state, ctx.session):
        raise detail_error(400, "Ticket already closed", "error")
    return JSONResponse("")


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    base = "/api/v1/authentication/"
    return [
        api_route(base + "auth/", {"POST": token_login}, login_required=False),
        api_route(base + "tokens/", {"POST": token_login}, login_required=False),
        api_route(base + "mfa/send-code/", {"POST": send_code}, login_required=False),
        api_route(base + "mfa/select/", {"POST": send_code}, login_required=False),
        api_route(base + "mfa/challenge/", {"POST": mfa_challenge}, login_required=False),
        api_route(base + "mfa/verify/", {"POST": mfa_challenge}, login_required=False),
        api_route(
            base + "user-session/",
            {"GET": user_session_get, "DELETE": user_session_delete},
            login_required=False,
        ),
        api_route(base + "confirm/", {"GET": confirm_get, "POST": confirm_post}),
        api_route(base + "confirm/check/", {"GET": confirm_check}),
        api_route(base + "access-keys/", {"GET": keys_list, "POST": keys_create}),
        api_route(
            base + "access-keys/{key_id:uuid}/",
            {"GET": key_detail, "PATCH": key_update, "DELETE": key_delete},
        ),
        api_route(
            base + "login-confirm-ticket/status/",
            {"GET": login_ticket_status, "DELETE": login_ticket_cancel},
            login_required=False,
        ),
    ]
