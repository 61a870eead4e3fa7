"""Request context, error types and the view wrappers that add Django-like cookie handling."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ._cookies import CSRF_COOKIE_AGE, delete_cookie_header, parse_cookie_header, set_cookie_header
from ._csrf import check_origin, check_token
from ._model import Org, User
from ._sessions import Session
from ._state import SandboxState

Endpoint = Callable[[Request], Awaitable[Response]]
View = Callable[["Ctx"], Awaitable[Response]]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiError(Exception):
    """An error answered as JSON with the given status."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail_error(status: int, detail: str, code: str, **headers: str) -> ApiError:
    """The DRF shape {"detail","code"}."""
    return ApiError(status, {"detail": detail, "code": code}, headers)


def not_found(model: str = "Object") -> ApiError:
    """404 for a missing or invisible object."""
    return detail_error(404, f"{model} object does not exist.", "object_does_not_exist")


def permission_denied() -> ApiError:
    """403 for an authenticated caller without RBAC permission."""
    return detail_error(
        403, "You do not have permission to perform this action.", "permission_denied"
    )


class ServerErrorPage(Exception):
    """Django's plain 500 HTML page (e.g. a broken HTTP Signature)."""


class HtmlNotFound(Exception):
    """Django's small 404 HTML page."""


def html_404() -> Response:
    """The HTML 404 page for paths that match no route."""
    body = (
        '<!doctype html>\n<html lang="en"><head><title>Not Found</title></head>'
        "<body><h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
        "</body></html>\n"
    )
    return HTMLResponse(body, status_code=404)


def html_500() -> Response:
    """The HTML 500 page."""
    return HTMLResponse(
        '<!doctype html>\n<html lang="en"><head><title>Server Error (500)</title></head>'
        "<body><h1>Server Error (500)</h1><p></p></body></html>\n",
        status_code=500,
    )


@dataclass
class Ctx:
    """One request with its session, client address and authenticated user."""

    request: Request
    state: SandboxState
    session: Session
    cookies: dict[str, str]
    client_ip: str
    user: User | None = None
    auth_via: str | None = None
    new_csrf: str | None = None  # CSRF cookie value to (re)issue on the response
    extra_cookies: list[str] = field(default_factory=list)
    _body: bytes | None = None

    @property
    def now(self) -> float:
        """Sandbox time."""
        return self.state.clock.now()

    @property
    def path(self) -> str:
        """Request path."""
        return str(self.request.url.path)

    @property
    def query(self) -> dict[str, str]:
        """Query parameters (last value wins)."""
        return dict(self.request.query_params)

    @property
    def csrf_secret(self) -> str | None:
        """The CSRF secret the client holds (cookie) or is about to receive."""
        return self.new_csrf or self.cookies.get(self.state.csrf_cookie)

    @property
    def host(self) -> str:
        """The Host header as sent."""
        return self.request.headers.get("host", "")

    @property
    def scheme(self) -> str:
        """http or https as this request arrived."""
        return str(self.request.url.scheme)

    @property
    def is_secure(self) -> bool:
        """Django's request.is_secure(): JumpServer trusts only X-Forwarded-Proto: https
        (SECURE_PROXY_SSL_HEADER), so a stock server on HTTPS without a proxy that sets it is
        not "secure"; --strict-referer treats every HTTPS request as secure (sheet 2)."""
        if self.request.headers.get("x-forwarded-proto", "").strip().lower() == "https":
            return True
        return self.state.options.strict_referer and self.scheme == "https"

    def check_csrf(self, submitted: str | None, source: str) -> None:
        """Django's CSRF checks (Origin/Referer, then the token); CsrfFailure on failure."""
        headers = self.request.headers
        check_origin(
            scheme=self.scheme,
            host=self.host,
            origin=headers.get("origin"),
            referer=headers.get("referer"),
            secure=self.is_secure,
        )
        check_token(
            cookie_secret=self.cookies.get(self.state.csrf_cookie),
            submitted=submitted,
            source=source,
        )

    def absolute(self, path_and_query: str) -> str:
        """An absolute URL built from Host and X-Forwarded-Proto, like DRF's build_absolute_uri."""
        scheme = self.request.headers.get("x-forwarded-proto", self.scheme)
        return f"{scheme}://{self.host}{path_and_query}"

    @property
    def org(self) -> Org:
        """The current organisation (?oid, X-JMS-ORG header, X-JMS-ORG cookie, session)."""
        value = (
            self.query.get("oid")
            or self.request.headers.get("x-jms-org")
            or self.cookies.get("X-JMS-ORG")
            or self.session.get("oid")
        )
        return self.state.directory.resolve_org(value)

    async def body(self) -> bytes:
        """The raw request body."""
        if self._body is None:
            self._body = await self.request.body()
        return self._body

    async def data(self) -> dict[str, Any]:
        """The body as a dict: JSON or form-encoded (multi-values collapse to the last)."""
        raw = await self.body()
        ctype = self.request.headers.get("content-type", "")
        if not raw.strip():
            return {}
        if "json" in ctype:
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise detail_error(400, f"JSON parse error - {exc}", "parse_error") from exc
            if not isinstance(value, dict):
                raise ApiError(400, {"non_field_errors": ["Invalid data. Expected a dictionary."]})
            return value
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def client_ip(request: Request) -> str:
    """First X-Forwarded-For entry, else the socket peer."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "127.0.0.1"


def make_ctx(request: Request) -> Ctx:
    """Build the context: parse cookies, load the session."""
    state: SandboxState = request.app.state.sandbox
    cookies = parse_cookie_header(request.headers.get("cookie", ""))
    session = state.sessions.load(cookies.get(state.session_cookie))
    return Ctx(request, state, session, cookies, client_ip(request))


def finalize(ctx: Ctx, response: Response, *, api: bool) -> Response:
    """Save the session and add the cookies Django's middlewares would set."""
    state, now = ctx.state, ctx.now
    headers: list[str] = []
    session = ctx.session
    if session.modified or (session.key and session.data):
        key = state.sessions.save(session)
        headers.append(
            set_cookie_header(
                state.session_cookie, key, now=now, max_age=session.age, http_only=True
            )
        )
    elif session.had_cookie and session.key is None:
        headers.append(delete_cookie_header(state.session_cookie))
    if ctx.new_csrf:
        headers.append(
            set_cookie_header(state.csrf_cookie, ctx.new_csrf, now=now, max_age=CSRF_COOKIE_AGE)
        )
    if not api and ctx.cookies.get("jms_public_key") != state.password_key.cookie_value:
        headers.append(
            set_cookie_header("jms_public_key", state.password_key.cookie_value, now=now)
        )
    prefix_value = state.prefix or '""'
    if ctx.cookies.get("SESSION_COOKIE_NAME_PREFIX") != prefix_value:
        headers.append(set_cookie_header("SESSION_COOKIE_NAME_PREFIX", prefix_value, now=now))
    headers += ctx.extra_cookies
    for value in headers:
        response.headers.append("set-cookie", value)
    return response


def error_response(exc: ApiError) -> Response:
    """JSON response for an ApiError ("" bodies stay empty)."""
    if exc.body is None:
        response: Response = Response(b"", status_code=exc.status)
    else:
        response = JSONResponse(exc.body, status_code=exc.status)
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def html_view(view: View) -> Endpoint:
    """Wrap an HTML page view: session load/save, public-key and prefix cookies."""

    async def endpoint(request: Request) -> Response:
        ctx = make_ctx(request)
        try:
            response = await view(ctx)
        except ApiError as exc:
            response = error_response(exc)
        except HtmlNotFound:
            response = html_404()
        return finalize(ctx, response, api=False)

    return endpoint
