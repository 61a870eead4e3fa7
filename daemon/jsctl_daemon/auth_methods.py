"""Handlers for auth.* and profile.* methods."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from jsctl_protocol import ErrorCode, RpcError, quote_input

from .auth import AuthDomain
from .auth._doctor import check, network_checks, server_checks
from .auth._koko import describe as koko_describe
from .jumpserver.errors import JumpServerError
from .rpc import HANDLERS, CallContext


@HANDLERS.handler("auth.login.start")
async def login_start(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Begin a web login; the login ends if this client disconnects before finishing."""
    return await auth.logins.start(ctx.connection.number, params)


@HANDLERS.handler("auth.login.answer")
async def login_answer(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Answer the login's current step."""
    return await auth.logins.answer(params)


@HANDLERS.handler("auth.login.cancel")
async def login_cancel(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Abandon a login in progress."""
    await auth.logins.cancel(params["login_id"])
    return {"ok": True}


@HANDLERS.handler("auth.logout")
async def logout(ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain) -> dict[str, Any]:
    """Revoke server-side what can be revoked and forget the profile."""
    return await auth.logout(params.get("profile"))


@HANDLERS.handler("auth.whoami")
async def whoami(ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain) -> dict[str, Any]:
    """The profile's user, org, the state of both credentials, checked live, and which one
    KoKo connections use."""
    state = auth.profile(params.get("profile"))
    credentials = state.credentials
    answer: dict[str, Any] = {
        "profile": state.name,
        "url": credentials.url,
        "username": credentials.username,
        "org": credentials.org,
        "access_key": {"id": credentials.access_key_id, "ok": None},
    }
    try:
        with state.tagged():
            profile = await state.api.profile()
        answer["user"] = {
            "id": profile.id,
            "username": profile.username,
            "name": profile.name,
            "email": profile.email,
        }
        answer["access_key"]["ok"] = bool(credentials.access_key_id)
        answer["rest"] = {"ok": True}
        if credentials.org:
            with contextlib.suppress(JumpServerError):
                answer["org_name"] = (await state.api.current_org()).name
        refused = state.connection.key_refused
        if refused is not None and credentials.access_key_id:
            answer["access_key"].update(
                ok=False,
                revoked=True,
                error=f"JumpServer refuses the access key ({refused}): it was revoked on the "
                f"server; REST calls use the web session until `jsctl login --profile "
                f"{state.name}` creates a new key",
            )
            answer["rest"]["via"] = "web session"
    except JumpServerError as exc:
        answer["rest"] = {"ok": False, "error": str(exc)}
        answer["access_key"]["ok"] = False if credentials.access_key_id else None
    alive: bool | None = None
    try:
        alive = await auth.probe_web_session(state, max_age=0)
    except JumpServerError as exc:
        answer["web_session"] = {"valid": False, "error": str(exc)}
    else:
        answer["web_session"] = {
            "valid": alive,
            "valid_until": state.web_session_expires_at() if alive else None,
            "checked_at": state.web_checked_at,
        }
    answer["koko"] = await koko_describe(state, alive)
    if not alive and answer["koko"]["via"] == "web_session":
        answer["web_session"]["fix"] = f"run `jsctl login --profile {state.name}`"
    if not answer["rest"]["ok"] and not alive:
        raise RpcError(ErrorCode.LOGIN_REQUIRED, answer["rest"]["error"], answer)
    return answer


@HANDLERS.handler("auth.doctor")
async def doctor(ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain) -> dict[str, Any]:
    """Network, TLS, REST auth, web session, Web CLI and KoKo checks, each with its fix."""
    started = time.monotonic()
    name = auth.resolve_name(params.get("profile"))
    state = auth.profiles.get(name)
    if state is None:
        checks = [
            check(
                "profile",
                False,
                f"profile {quote_input(name)} is not logged in",
                f"run `jsctl login --profile {name} --url https://…`",
            )
        ]
        url = auth.config.profile(name).url
        if url:
            from .jumpserver import ServerConfig

            checks = [*await network_checks(ServerConfig(url)), *checks]
        return {"profile": name, "checks": checks}
    checks = await network_checks(state.credentials.server)
    if all(item["ok"] for item in checks):
        checks += await server_checks(state)
    return {
        "profile": name,
        "url": state.credentials.url,
        "checks": checks,
        "elapsed_s": round(time.monotonic() - started, 3),
    }


@HANDLERS.handler("profile.list")
async def profile_list(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Profiles and the default."""
    return auth.listing()


@HANDLERS.handler("profile.use")
async def profile_use(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Set the default profile."""
    auth.use(params["name"])
    return {"ok": True, "default": params["name"]}


@HANDLERS.handler("profile.remove")
async def profile_remove(
    ctx: CallContext, params: dict[str, Any], *, auth: AuthDomain
) -> dict[str, Any]:
    """Forget a profile (use `jsctl logout` to also revoke server-side)."""
    name = params["name"]
    if name not in auth.profiles:
        raise RpcError(
            ErrorCode.NOT_FOUND, f"no logged-in profile {quote_input(name)} — `jsctl profile ls`"
        )
    await auth.forget(name)
    return {"ok": True, "removed": name}
