"""Who a KoKo request belongs to: KoKo's ``HTTPMiddleSessionAuth`` (see SERVER-V5.md).

v4 KoKo knows only the web-session cookie (no valid session: 302 to the login page). The v5
line tries, in order: the cookies (when any are sent); then, when the request carries any of
``Authorization``, ``Date`` or ``X-JMS-ORG``, those three headers replayed on KoKo's own
``GET /api/v1/users/profile/`` to the core (refused: 401 ``authentication failed``); then a
connect ticket from ``X-Koko-Connect-Ticket`` or ``?ticket=`` (unknown or expired: 401
``connect ticket invalid or expired``; bound to another connection token: 401 ``connect ticket
token mismatch``); and only then the 302. Tickets come from ``POST /koko/api/connect-ticket/``,
live 30 minutes in KoKo's memory and are **not** consumed by use.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ._koko_io import login_redirect
from ._restauth import authenticate, user_is_valid
from ._web import ApiError, ServerErrorPage, make_ctx

if TYPE_CHECKING:
    from ._model import User
    from ._state import SandboxState

__all__ = [
    "TICKET_TTL_S",
    "ConnectTicket",
    "ConnectTicketStore",
    "create_ticket_endpoint",
    "identify",
]

TICKET_TTL_S = 30 * 60.0
TICKET_HEADER = "x-koko-connect-ticket"
AUTH_HEADERS = ("Authorization", "Date", "X-JMS-ORG")
PROFILE_PATH = "/api/v1/users/profile/"
GIN_404 = "404 page not found"


@dataclass
class ConnectTicket:
    """One ticket as KoKo keeps it: the user, the auth headers it was made with, bindings."""

    id: str
    user_id: str
    headers: dict[str, str]
    token_id: str
    org_id: str
    expires_at: float


class ConnectTicketStore:
    """KoKo's in-memory ticket map; expiry follows the sandbox clock."""

    def __init__(self) -> None:
        self.items: dict[str, ConnectTicket] = {}

    def create(
        self, user_id: str, headers: dict[str, str], token_id: str, org_id: str, now: float
    ) -> ConnectTicket:
        """A fresh ticket valid for 30 minutes."""
        ticket = ConnectTicket(
            str(uuid.uuid4()),
            user_id,
            dict(headers),
            token_id.strip(),
            org_id.strip(),
            now + TICKET_TTL_S,
        )
        self.items[ticket.id] = ticket
        return ticket

    def get(self, ticket_id: str, now: float) -> ConnectTicket | None:
        """The live ticket (an expired one is dropped); lookups do not consume it."""
        ticket = self.items.get(ticket_id) if ticket_id else None
        if ticket is not None and now > ticket.expires_at:
            del self.items[ticket_id]
            return None
        return ticket


def _unauthorized(detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=401)


def _auth_headers(connection: HTTPConnection) -> dict[str, str]:
    headers = {}
    for name in AUTH_HEADERS:
        value = connection.headers.get(name, "").strip()
        if value:
            headers[name] = value
    return headers


def _core_profile_user(connection: HTTPConnection, headers: dict[str, str]) -> User | None:
    """The user the core's profile GET answers for exactly these headers (KoKo's check)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": PROFILE_PATH,
        "raw_path": PROFILE_PATH.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
        "client": connection.scope.get("client"),
        "scheme": connection.url.scheme.replace("ws", "http"),
        "server": connection.scope.get("server"),
        "app": connection.scope.get("app"),
    }
    ctx = make_ctx(Request(scope))
    try:
        authenticate(ctx)
    except (ApiError, ServerErrorPage):
        return None
    return ctx.user


def identify(state: SandboxState, connection: HTTPConnection) -> User | Response:
    """The request's user, or KoKo's refusal (a 302 to the login page, or a 401 JSON body)."""
    now = state.clock.now()
    cookies = dict(connection.cookies)
    if cookies:
        session = state.sessions.load(cookies.get(state.session_cookie))
        user = state.directory.users.get(session.get("user_id") or "")
        if session.get("logged_in") and user is not None and user_is_valid(user, now):
            state.sessions.save(session)  # the core's profile GET slides the session
            state.counters["koko_auth_cookie"] += 1
            return user
    if not state.version.koko_header_auth:
        return login_redirect(connection)
    headers = _auth_headers(connection)
    if headers:
        found = _core_profile_user(connection, headers)
        if found is None:
            return _unauthorized("authentication failed")
        state.counters["koko_auth_headers"] += 1
        return found
    ticket_id = connection.headers.get(TICKET_HEADER, "").strip()
    ticket_id = ticket_id or connection.query_params.get("ticket", "").strip()
    if ticket_id:
        store: ConnectTicketStore = connection.app.state.koko_backend.tickets
        ticket = store.get(ticket_id, now)
        owner = state.directory.users.get(ticket.user_id) if ticket else None
        if ticket is None or owner is None:
            return _unauthorized("connect ticket invalid or expired")
        if ticket.token_id and connection.query_params.get("token", "").strip() != ticket.token_id:
            return _unauthorized("connect ticket token mismatch")
        state.counters["koko_auth_ticket"] += 1
        return owner  # KoKo trusts the user it stored with the ticket
    return login_redirect(connection)


def _go_time(ts: float) -> str:
    """Go's time.Time JSON form in UTC (RFC 3339 with trailing fraction zeros dropped)."""
    moment = datetime.fromtimestamp(ts, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


_GO_TYPES = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


def _bind_error(raw: bytes) -> str | None:
    """gin's ShouldBindJSON failure text for this body, or None when it binds."""
    if not raw.strip():
        return "EOF"
    try:
        body = json.loads(raw)
    except ValueError as exc:
        if exc.args and "Expecting value" in str(exc) and raw.strip()[:1] not in (b"{", b"["):
            char = raw.strip()[:1].decode("latin-1")
            return f"invalid character '{char}' looking for beginning of value"
        return "unexpected EOF"
    if body is None:
        return None
    if not isinstance(body, dict):
        kind = "string" if isinstance(body, str) else _GO_TYPES.get(type(body), "value")
        return (
            f"json: cannot unmarshal {kind} into Go value of type "
            'struct { TokenID string "json:\\"token_id\\""; OrgID string "json:\\"org_id\\"" }'
        )
    for field in ("token_id", "org_id"):
        value = body.get(field)
        if value is not None and not isinstance(value, str):
            kind = _GO_TYPES.get(type(value), "value")
            return f"json: cannot unmarshal {kind} into Go struct field .{field} of type string"
    return None


async def create_ticket_endpoint(request: Request) -> Response:
    """``POST /koko/api/connect-ticket/`` (v5 KoKo); a v4 KoKo has no such route (gin 404)."""
    state: SandboxState = request.app.state.sandbox
    if not state.version.koko_header_auth or request.method != "POST":
        return PlainTextResponse(GIN_404, status_code=404)
    found = identify(state, request)
    if isinstance(found, Response):
        return found
    raw = await request.body()
    error = _bind_error(raw)
    if error is not None:
        return JSONResponse({"detail": f"invalid request body: {error}"}, status_code=400)
    body = json.loads(raw) or {}
    store: ConnectTicketStore = request.app.state.koko_backend.tickets
    now = state.clock.now()
    ticket = store.create(
        found.id, _auth_headers(request), body.get("token_id") or "", body.get("org_id") or "", now
    )
    state.counters["connect_tickets"] += 1
    return JSONResponse(
        {
            "ticket": ticket.id,
            "token_id": ticket.token_id,
            "org_id": ticket.org_id,
            "expires_at": _go_time(ticket.expires_at),
            "expires_in": int(ticket.expires_at - state.clock.now()),
        },
        status_code=201,
    )
