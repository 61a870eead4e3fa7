"""The test-control API under /_sandbox/ (authorised by the X-Sandbox-Control header)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._faults import Fault
from ._koko_tasks import LIVE_TERMINALS
from ._state import SandboxState
from .koko_contract import KokoSettings

PREFIX = "/_sandbox/"
Handler = Callable[[SandboxState, dict[str, Any], Request], Awaitable[Any]]


def _control(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state: SandboxState = request.app.state.sandbox
        given = request.headers.get("x-sandbox-control", "")
        if not secrets.compare_digest(given.encode(), state.control_token.encode()):
            return JSONResponse({"error": "bad or missing X-Sandbox-Control header"}, 403)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return JSONResponse({"error": "body must be JSON"}, 400)
        try:
            result = await handler(state, body, request)
        except (KeyError, ValueError, TypeError, StopIteration) as exc:
            return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(result)

    return endpoint


async def expire_sessions(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Forget every web session now."""
    return {"expired": state.sessions.expire_all()}


async def advance_clock(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Move the sandbox clock forward by body["seconds"]."""
    state.clock.advance(float(body["seconds"]))
    return {"offset": state.clock.offset}


async def add_fault(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Install a fault: {"path","kind":"status|garbage|slow","status","delay","times","method"}."""
    fault = Fault(
        path=str(body["path"]),
        kind=str(body.get("kind", "status")),
        status=int(body.get("status", 503)),
        delay=float(body.get("delay", 0.0)),
        times=None if body.get("times") is None else int(body["times"]),
        method=body.get("method"),
    )
    state.faults.add(fault)
    return {"faults": [f.to_dict() for f in state.faults.faults]}


async def list_faults(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """The installed faults."""
    return {"faults": [f.to_dict() for f in state.faults.faults]}


async def reset(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Clear faults, KoKo switches, ACL review, throttling, login/MFA locks and counters."""
    state.faults.clear()
    state.guard.clear()
    state.captcha_marks.clear()
    fresh = KokoSettings(version=state.options.server_version)
    if state.options.idle_timeout is not None:
        fresh.idle_timeout_s = state.options.idle_timeout
    state.koko_settings.__dict__.update(fresh.__dict__)
    state.acl_review_tokens = False
    state.zone_endpoints.clear()
    state.login_review_users.clear()
    state.throttle.reset()
    state.counters.clear()
    state.koko_routed = True
    return {"ok": True}


async def clear_access_keys(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Delete one user's (or every user's) access keys: a shared test server hits the 10-key
    limit after many logins."""
    username = body.get("username")
    cleared = 0
    for user in state.directory.users.values():
        if username is None or user.username == username:
            cleared += len(user.access_keys)
            user.access_keys.clear()
    return {"cleared": cleared}


async def koko(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Set KokoSettings fields (drop_after_bytes, drop_randomly, idle_timeout_s, ...)."""
    settings = state.koko_settings
    for name, value in body.items():
        if not hasattr(settings, name) or name == "version":
            raise KeyError(f"unknown KoKo setting {name!r}")
        setattr(settings, name, value)
    return dict(settings.__dict__)


async def terminals(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Live terminal sessions (their audit ids) and whether each is paused."""
    return {
        "terminals": [{"id": sid, "paused": tasks.paused} for sid, tasks in LIVE_TERMINALS.items()]
    }


async def terminal_task(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Run a core terminal task on a live session, as an administrator would:
    {"task": "kill_session|lock_session|unlock_session|perm_expired|perm_valid", "by": name}."""
    session_id = request.path_params["session_id"]
    tasks = LIVE_TERMINALS.get(session_id)
    if tasks is None:
        raise KeyError(f"no live terminal session {session_id}")
    await tasks.run_task(str(body["task"]), str(body.get("by") or "Administrator(admin)"))
    return {"id": session_id, "paused": tasks.paused}


async def endpoints(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Route an asset to a zone KoKo: {"asset": name, "host": h, "https_port": p} (no host:
    back to the Default endpoint)."""
    asset = str(body["asset"])
    if body.get("host"):
        rule: dict[str, Any] = {"name": f"zone-{asset}", "host": str(body["host"])}
        rule["https_port"] = int(body.get("https_port", 443))
        rule["http_port"] = int(body.get("http_port", 80))
        state.zone_endpoints[asset] = rule
    else:
        state.zone_endpoints.pop(asset, None)
    return {"endpoints": state.zone_endpoints}


async def acl(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Turn the connection-token ACL review on or off."""
    state.acl_review_tokens = bool(body.get("connection_token_review", False))
    return {"connection_token_review": state.acl_review_tokens}


async def login_review(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Put one user's logins under ACL review ({"username": "mei"}), or nobody's (null)."""
    username = body.get("username")
    state.login_review_users.clear()
    if username is not None:
        if state.directory.user_by_login(str(username)) is None:
            raise KeyError(f"no user {username!r}")
        state.login_review_users.add(str(username))
    return {"login_review_users": sorted(state.login_review_users)}


async def ticket(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Approve or reject an open review ticket: {"action": "approve"|"reject"}."""
    found = state.tickets[request.path_params["ticket_id"]]
    action = str(body.get("action", "approve"))
    if action not in ("approve", "reject"):
        raise ValueError("action must be approve or reject")
    if found.status != "open":
        raise ValueError(f"ticket {found.id} is already {found.state}")
    found.status, found.state = "closed", "approved" if action == "approve" else "rejected"
    if action == "approve" and found.token_id:
        state.connection_tokens[found.token_id].is_active = True
    return {"id": found.id, "state": found.state}


async def tickets(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Every review ticket in creation order (tests find the one a login waits on)."""
    users = state.directory.users
    return {
        "tickets": [
            {
                "id": t.id,
                "kind": t.kind,
                "title": t.title,
                "applicant": users[t.applicant_id].username if t.applicant_id in users else "",
                "state": t.state,
                "status": t.status,
            }
            for t in state.tickets.values()
        ]
    }


async def throttle(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Enable ({"enabled": true}) the version's rates, or disable throttling."""
    state.throttle.rates = state.version.throttle_rates if body.get("enabled") else None
    state.throttle.reset()
    return {"rates": state.throttle.rates}


async def counters(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Event counters (logins, tokens, terminal sessions, ...)."""
    return dict(state.counters)


async def captcha(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """The answer to a captcha key, or to the newest one with key `latest` (tests)."""
    key = request.path_params["key"]
    if key == "latest":
        key = state.captchas.latest_key() or key
    challenge = state.captchas.get(key)
    if challenge is None:
        raise KeyError("unknown or expired captcha key")
    return {"answer": challenge.answer, "expression": challenge.expression}


async def info(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """Sandbox facts: version, clock offset, terminal sessions recorded."""
    return {
        "version": state.options.server_version,
        "clock_offset": state.clock.offset,
        "terminal_sessions": state.terminal_sessions,
        "connection_token_review": state.acl_review_tokens,
        "login_review_users": sorted(state.login_review_users),
    }


async def account_secret(state: SandboxState, body: dict[str, Any], request: Request) -> Any:
    """An asset account's password (what the asset's sudo asks for), for tests."""
    name, account = request.path_params["asset"], request.path_params["account"]
    asset = next(a for a in state.directory.assets.values() if a.name == name)
    found = next(a for a in asset.accounts if account in (a.name, a.username))
    return {"secret": found.secret, "username": found.username}


def routes() -> list[BaseRoute]:
    """Control routes."""

    def route(path: str, handler: Handler, method: str) -> Route:
        return Route(PREFIX + path, _control(handler), methods=[method])

    return [
        route("sessions/expire/", expire_sessions, "POST"),
        route("clock/advance/", advance_clock, "POST"),
        route("faults/", add_fault, "POST"),
        route("faults/", list_faults, "GET"),
        route("reset/", reset, "POST"),
        route("access-keys/clear/", clear_access_keys, "POST"),
        route("koko/", koko, "POST"),
        route("koko/terminals/", terminals, "GET"),
        route("endpoints/", endpoints, "POST"),
        route("koko/terminals/{session_id}/task/", terminal_task, "POST"),
        route("acl/", acl, "POST"),
        route("login-review/", login_review, "POST"),
        route("tickets/", tickets, "GET"),
        route("tickets/{ticket_id}/", ticket, "POST"),
        route("throttle/", throttle, "POST"),
        route("counters/", counters, "GET"),
        route("captcha/{key}/", captcha, "GET"),
        route("info/", info, "GET"),
        route("accounts/{asset}/{account}/", account_secret, "GET"),
    ]
