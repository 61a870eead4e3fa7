"""One HTTP(S) conversation with a JumpServer: cookies, CSRF, org header, signing, errors.

Wraps ``httpx.AsyncClient`` with JumpServer's rules: never follow redirects, always send the
trailing slash, ``Accept-Language: en`` with any ``django_language`` cookie dropped, CSRF
header plus ``Origin``/``Referer`` on cookie-authenticated unsafe calls, ``X-JMS-ORG`` when an
organisation is chosen, bounded retries on 429, and error shapes mapped to exceptions.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any, Literal

import httpx
import trio

from jsctl_daemon.jumpserver._lanes import Lanes, environment_proxies
from jsctl_daemon.jumpserver._request_cookies import LANGUAGE_COOKIE, request_cookie
from jsctl_daemon.jumpserver._responses import error_for, parse_json, retry_after_seconds
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import (
    AccessKeyRevoked,
    BadResponse,
    RateLimited,
    TLSFailure,
    Unreachable,
    ssl_cause,
)
from jsctl_daemon.jumpserver.signature import AccessKey, SignatureAuth, sign

__all__ = ["AuthMode", "Connection"]

AuthMode = Literal["auto", "cookie", "key"]
"""``auto``: sign with the access key when there is one, else cookies; ``cookie``: cookies only."""

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PREFIX = "jms_"
_PREFIX_COOKIE = "SESSION_COOKIE_NAME_PREFIX"
_MAX_RETRY_WAIT = 30.0
# Requests in flight to one site at once. Each waits for a pooled connection it can keep:
# a burst (a fleet opening 100 terminals: asset detail, connection token, smart endpoint
# each) beyond the pool would open a TLS connection per extra request and drop it again,
# and httpx's pool walks every queued request on each change. A real core serves a user's
# requests with a few web workers (sheet 6: tokens come at ~15/s), so more gains nothing.
MAX_IN_FLIGHT = 8


def _strip_quotes(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _key_refusal(response: httpx.Response) -> str | None:
    """The server's words when it refused an access-key signature (401 authentication_failed:
    `Invalid signature.` for a revoked, disabled or unknown key), else None."""
    if response.status_code != 401:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("code") != "authentication_failed":
        return None
    return str(body.get("detail") or "Invalid signature.")


class Connection:
    """HTTP client for one JumpServer site with its own cookie jar."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        access_key: AccessKey | None = None,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.access_key = access_key
        self.max_retries = max_retries
        # Set when JumpServer refused the access key (revoked on the server): `auto` requests
        # then use the web session instead; the next login creates a new key.
        self.key_refused: str | None = None
        try:
            verify: ssl.SSLContext | bool = config.ssl_context or False
        except (OSError, ssl.SSLError) as exc:
            raise TLSFailure(config.url, f"cannot use CA file {config.ca_file}: {exc}") from None
        self._in_flight = trio.CapacityLimiter(MAX_IN_FLIGHT)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=MAX_IN_FLIGHT)
        # Without a proxy in the environment, requests take a lane of their own (see _send);
        # with one, they go through the client, which routes them to the proxy.
        self._lanes = Lanes(verify) if transport is None and not environment_proxies() else None
        self._client = httpx.AsyncClient(
            base_url=config.url,
            verify=verify,
            follow_redirects=False,
            timeout=config.timeout,
            headers={"Accept-Language": "en", "User-Agent": "jsctl"},
            transport=transport,
            # The cap is ours (above); the pool only keeps that many connections for reuse, so
            # a connection it failed to give back (a request cancelled mid-way) never starves it.
            limits=limits,
        )
        # What build_request would merge into every request (asked once, not per request).
        self._https = config.scheme == "https"
        self._origin = f"{config.scheme}://{config.netloc}"
        self._base_path = config.base_path
        self._extensions = {"timeout": self._client.timeout.as_dict()}

    # -- cookies -----------------------------------------------------------------------------

    @property
    def cookies(self) -> httpx.Cookies:
        """The jar (web session, CSRF secret, public key, prefix)."""
        return self._client.cookies

    @property
    def cookie_prefix(self) -> str:
        """The session cookie name prefix the site announced (``jms_`` unless it said otherwise)."""
        value = self._cookie(_PREFIX_COOKIE)
        return _DEFAULT_PREFIX if value is None else _strip_quotes(value)

    @property
    def session_cookie_name(self) -> str:
        """``jms_sessionid`` or its prefix-adjusted variant."""
        return f"{self.cookie_prefix}sessionid"

    @property
    def csrf_token(self) -> str | None:
        """The current CSRF secret from the jar (re-read before every unsafe call)."""
        return self._cookie(f"{self.cookie_prefix}csrftoken")

    def _cookie(self, name: str) -> str | None:
        for cookie in self._client.cookies.jar:
            if cookie.name == name and cookie.value is not None:
                return cookie.value
        return None

    def cookie(self, name: str) -> str | None:
        """A cookie's value by exact name, if present."""
        return self._cookie(name)

    def cookie_header(self) -> str:
        """All jar cookies as one ``Cookie`` header value (for KoKo's WebSocket upgrade)."""
        return "; ".join(
            f"{c.name}={c.value}"
            for c in self._client.cookies.jar
            if c.value is not None and c.name != LANGUAGE_COOKIE
        )

    def export_cookies(self) -> dict[str, str]:
        """Name → value of every cookie worth persisting (language cookie excluded)."""
        return {
            c.name: c.value
            for c in self._client.cookies.jar
            if c.value is not None and c.name != LANGUAGE_COOKIE
        }

    def import_cookies(self, cookies: Mapping[str, str]) -> None:
        """Load persisted cookies into the jar for this site's host."""
        for name, value in cookies.items():
            self._client.cookies.set(name, value, domain=self.config.host, path="/")

    def reset_cookies(self) -> None:
        """Start from an empty jar (a fresh login)."""
        self._client.cookies.clear()

    def _drop_language_cookie(self) -> None:
        if self._cookie(LANGUAGE_COOKIE) is not None:
            self._client.cookies.delete(LANGUAGE_COOKIE)

    # -- requests ----------------------------------------------------------------------------

    def _headers(
        self,
        method: str,
        path: str,
        signed: bool,
        org: str | None,
        extra: Mapping[str, str] | None,
    ) -> httpx.Headers:
        headers = self._client.headers.copy()  # Accept-Language, User-Agent and httpx's own
        cookie = request_cookie(self._client.cookies.jar, self._base_path + path, self._https)
        if cookie:
            headers["Cookie"] = cookie
        chosen_org = org if org is not None else self.config.org
        if chosen_org:
            headers["X-JMS-ORG"] = chosen_org
        if method in _UNSAFE and not signed:
            headers["Origin"] = self._origin
            headers["Referer"] = self.config.url + "/"
            token = self.csrf_token
            if token:
                headers["X-CSRFToken"] = token
        if extra:
            headers.update(extra)
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: AuthMode = "auto",
        org: str | None = None,
        allow: Collection[int] = (),
    ) -> httpx.Response:
        """Send one request; 2xx and statuses in ``allow`` return, anything else raises."""
        method = method.upper()
        path_only, _, query = path.partition("?")
        if not path_only.endswith("/") and "." not in path_only.rsplit("/", 1)[-1]:
            # Django would 301 a slash-less path, turning a POST into a body-less GET
            # (static files such as /static/js/x.js are the exception).
            path = path_only + "/" + (f"?{query}" if query else "")
        signed = self.access_key is not None and auth != "cookie"
        if auth == "auto" and self.key_refused is not None:
            signed = False
        if auth == "key" and self.access_key is None:
            raise ValueError("this request needs an access key and the connection has none")

        url = self.config.url + path
        if params:
            url += ("&" if "?" in path else "?") + str(httpx.QueryParams(params))

        def build(signed: bool) -> httpx.Request:
            # As the client's build_request would, minus its per-request URL merging and jar
            # copy (a fleet's first contacts send hundreds of these; see _request_cookies.py).
            return httpx.Request(
                method,
                url,
                json=json,
                data=data,
                headers=self._headers(method, path.partition("?")[0], signed, org, headers),
                extensions=self._extensions,
            )

        response = await self._send_with_retries(build(signed), signed)
        refused = _key_refusal(response) if signed else None
        if refused is not None and auth == "auto":
            self.key_refused = refused
            if self._cookie(self.session_cookie_name) is None:
                raise AccessKeyRevoked(refused)
            signed = False  # the web session may still carry us
            response = await self._send_with_retries(build(False), False)
            if response.status_code == 401:
                raise AccessKeyRevoked(refused)
        if 200 <= response.status_code < 300 or response.status_code in allow:
            return response
        if self.key_refused is not None and auth == "auto" and response.status_code == 401:
            raise AccessKeyRevoked(self.key_refused)  # neither the key nor the web session
        raise error_for(response, signed=signed)

    async def _send_with_retries(self, request: httpx.Request, signed: bool) -> httpx.Response:
        attempts = 0
        while True:
            response = await self._send(request, signed)
            if response.status_code != 429 or attempts >= self.max_retries:
                return response
            wait = retry_after_seconds(response)
            if wait is None or wait > _MAX_RETRY_WAIT:
                raise RateLimited(wait)
            attempts += 1
            await trio.sleep(wait)

    async def _send(self, request: httpx.Request, signed: bool) -> httpx.Response:
        key = self.access_key if signed else None
        try:
            async with self._in_flight:  # the body is read before the slot is given back
                if self._lanes is not None:
                    response = await self._send_on_lane(self._lanes, request, key)
                else:
                    auth = None if key is None else SignatureAuth(key)
                    response = await self._client.send(request, auth=auth, follow_redirects=False)
        except httpx.TimeoutException:
            raise Unreachable(
                self.config.url, f"no answer within {self.config.timeout:g} s"
            ) from None
        except httpx.TransportError as exc:
            cause = ssl_cause(exc)
            if cause is not None:
                reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
                raise TLSFailure(self.config.url, str(reason)) from None
            raise Unreachable(self.config.url, str(exc) or type(exc).__name__) from None
        if "set-cookie" in response.headers:
            self._drop_language_cookie()
        return response

    async def _send_on_lane(
        self, lanes: Lanes, request: httpx.Request, key: AccessKey | None
    ) -> httpx.Response:
        """What the client's send does for our requests, on a lane (see _lanes.py); the jar
        reads a response only when it sets cookies."""
        if key is not None:
            sign(request, key)
        response = await lanes.send(request)
        if "set-cookie" in response.headers:
            self._client.cookies.extract_cookies(response)
        return response

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        auth: AuthMode = "auto",
        org: str | None = None,
    ) -> Any:
        """GET a JSON document."""
        response = await self.request("GET", path, params=params, auth=auth, org=org)
        return parse_json(response)

    async def send_json(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str | int] | None = None,
        auth: AuthMode = "auto",
        org: str | None = None,
    ) -> Any:
        """POST/PATCH/PUT a JSON body and return the JSON answer (None for empty bodies)."""
        response = await self.request(method, path, json=body, params=params, auth=auth, org=org)
        return parse_json(response) if response.content else None

    async def iter_pages(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        page_size: int = 200,
        auth: AuthMode = "auto",
        org: str | None = None,
    ) -> AsyncIterator[list[Any]]:
        """Every page of a list endpoint, via ``limit``/``offset`` (the ``next`` URL is ignored)."""
        offset = 0
        while True:
            query: dict[str, str | int] = dict(params or {})
            query.update(limit=page_size, offset=offset)
            body = await self.get_json(path, params=query, auth=auth, org=org)
            if isinstance(body, list):  # an endpoint that ignores paging answers the whole list
                yield body
                return
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise BadResponse(f"GET {path}", "a list page without `results`")
            results: list[Any] = body["results"]
            count = body.get("count")
            yield results
            offset += len(results)
            if not results or not isinstance(count, int) or offset >= count:
                return

    async def get_all(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        page_size: int = 200,
        auth: AuthMode = "auto",
        org: str | None = None,
    ) -> list[Any]:
        """All items of a list endpoint, across pages."""
        items: list[Any] = []
        async for page in self.iter_pages(path, params, page_size=page_size, auth=auth, org=org):
            items.extend(page)
        return items

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._lanes is not None:
            await self._lanes.aclose()
        await self._client.aclose()

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
