"""Control knobs for the real-server edge cases: flag a user, revoke keys, unroute KoKo."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from ._control import PREFIX, Handler, _control
from ._state import SandboxState


async def user_flags(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Set a user's flags: {"must_change_password": bool, "mfa": "forced"|"totp"|"none"}.

    `mfa = "forced"` forgets the bound authenticator (MFA forced, not set up yet); "totp"
    binds a new secret when the user has none; "none" turns MFA off.
    """
    import pyotp

    username = str(request.path_params["username"])
    user = state.directory.user_by_login(username)
    if user is None:
        raise KeyError(f"no user {username!r}")
    if "must_change_password" in body:
        user.need_update_password = bool(body["must_change_password"])
    mfa = body.get("mfa")
    if mfa == "forced":
        user.totp_secret, user.mfa_level = None, 2
    elif mfa == "totp":
        user.totp_secret, user.mfa_level = user.totp_secret or pyotp.random_base32(), 1
    elif mfa == "none":
        user.totp_secret, user.mfa_level = None, 0
    elif mfa is not None:
        raise ValueError("mfa must be forced, totp or none")
    return {
        "username": user.username,
        "must_change_password": user.need_update_password,
        "mfa_level": user.mfa_level,
        "totp_secret": user.totp_secret,
    }


async def revoke_access_keys(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Delete access keys as an administrator would: {"username": .., "key_id": ..?}."""
    user = state.directory.user_by_login(str(body["username"]))
    if user is None:
        raise KeyError(f"no user {body['username']!r}")
    key_id = body.get("key_id")
    before = len(user.access_keys)
    user.access_keys[:] = [k for k in user.access_keys if key_id is not None and k.id != key_id]
    return {"revoked": before - len(user.access_keys)}


async def koko_routing(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """{"routed": false}: /koko/ is not routed to KoKo (core 404, WebSocket 500)."""
    state.koko_routed = bool(body.get("routed", True))
    return {"routed": state.koko_routed}


def routes() -> list[BaseRoute]:
    """Routes of this module."""

    def route(path: str, handler: Handler) -> Route:
        return Route(PREFIX + path, _control(handler), methods=["POST"])

    return [
        route("users/{username}/", user_flags),
        route("access-keys/revoke/", revoke_access_keys),
        route("koko/routing/", koko_routing),
    ]
