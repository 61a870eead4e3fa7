"""How a KoKo WebSocket (or elFinder connector request) proves who we are.

v4 KoKo accepts only the web-session cookie. The KoKo of the v5 line (``pkg/auth``
``HTTPMiddleSessionAuth``) also accepts ``Authorization``/``Date``/``X-JMS-ORG``: it replays
exactly those headers on its own ``GET /api/v1/users/profile/`` to the core, so the access-key
signature must cover *that* request (``(request-target): get /api/v1/users/profile/`` and
``date``), not the KoKo path. Cookies are tried first when present, so signed requests carry
none. Whether KoKo takes headers is learnt by asking for a connect ticket (``POST
/koko/api/connect-ticket/``) with them: 201 = yes, 401 = yes but the key is refused, 404 (or a
login redirect) = a KoKo before v5. The version string is no guide: KoKo ships and is upgraded
separately from the core, and the core shows its version only in HTML footers.
"""

from __future__ import annotations

import enum
from collections.abc import Generator
from dataclasses import dataclass, field
from email.utils import formatdate

import httpx

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import TLSFailure, Unreachable, ssl_cause
from jsctl_daemon.jumpserver.signature import AccessKey, signature_header

__all__ = [
    "PROFILE_TARGET",
    "TICKET_PATH",
    "KokoCredentials",
    "KokoHeaderAuth",
    "as_credentials",
    "probe_header_auth",
]

PROFILE_TARGET = "/api/v1/users/profile/"
TICKET_PATH = "/koko/api/connect-ticket/"


class KokoHeaderAuth(enum.Enum):
    """What a ticket request signed with the access key told us about KoKo."""

    OFFERED = "offered"  # KoKo takes the access key: no web session needed for terminals
    KEY_REFUSED = "key_refused"  # KoKo takes headers, but the core refused this key
    ABSENT = "absent"  # a KoKo before v5: cookies only


@dataclass(frozen=True)
class KokoCredentials:
    """One way to authenticate to KoKo; ``headers()`` is computed afresh for each request."""

    via: str  # "web_session" or "access_key"
    cookie: str = field(default="", repr=False)
    key: AccessKey | None = None
    org: str | None = None

    @classmethod
    def web_session(cls, cookie_header: str) -> KokoCredentials:
        """The web-session cookies (every KoKo)."""
        return cls("web_session", cookie=cookie_header)

    @classmethod
    def access_key(cls, key: AccessKey, org: str | None = None) -> KokoCredentials:
        """Access-key signed headers (v5 KoKo)."""
        return cls("access_key", key=key, org=org)

    def headers(self) -> list[tuple[str, str]]:
        """The authentication headers for one request to KoKo."""
        if self.via == "web_session":
            return [("Cookie", self.cookie)] if self.cookie else []
        assert self.key is not None
        return signed_profile_headers(self.key, self.org)

    def httpx_auth(self) -> httpx.Auth:
        """The same headers for an httpx client (fresh per request)."""
        return _HeaderAuth(self)


def as_credentials(credentials: str | KokoCredentials) -> KokoCredentials:
    """A bare string is a web-session ``Cookie`` header."""
    if isinstance(credentials, KokoCredentials):
        return credentials
    return KokoCredentials.web_session(credentials)


def signed_profile_headers(key: AccessKey, org: str | None) -> list[tuple[str, str]]:
    """``Authorization``/``Date`` (and ``X-JMS-ORG``) valid for the core's profile GET."""
    date = formatdate(usegmt=True)
    signature = signature_header(key, "GET", PROFILE_TARGET, date)
    headers = [("Authorization", signature), ("Date", date)]
    if org:
        headers.append(("X-JMS-ORG", org))
    return headers


class _HeaderAuth(httpx.Auth):
    def __init__(self, credentials: KokoCredentials) -> None:
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        for name, value in self.credentials.headers():
            request.headers[name] = value
        yield request


async def probe_header_auth(
    config: ServerConfig, key: AccessKey, org: str | None = None
) -> KokoHeaderAuth:
    """Ask KoKo for a connect ticket with the signed headers (and no cookies).

    Raises Unreachable/TLSFailure when KoKo cannot be asked at all (then nothing is learnt).
    """
    headers = {"Accept-Language": "en", "User-Agent": "jsctl"}
    headers.update(signed_profile_headers(key, org))
    try:
        async with httpx.AsyncClient(
            base_url=config.url,
            verify=config.ssl_context or False,
            follow_redirects=False,
            timeout=config.timeout,
        ) as client:
            response = await client.post(TICKET_PATH, json={}, headers=headers)
    except httpx.TimeoutException:
        raise Unreachable(config.url, f"no answer within {config.timeout:g} s") from None
    except httpx.TransportError as exc:
        cause = ssl_cause(exc)
        if cause is not None:
            reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
            raise TLSFailure(config.url, str(reason)) from None
        raise Unreachable(config.url, str(exc) or type(exc).__name__) from None
    if response.status_code == 201 and _has_ticket(response):
        return KokoHeaderAuth.OFFERED
    if response.status_code == 401 and _is_json(response):
        return KokoHeaderAuth.KEY_REFUSED
    return KokoHeaderAuth.ABSENT


def _is_json(response: httpx.Response) -> bool:
    media_type: str = response.headers.get("content-type", "")
    return media_type.startswith("application/json")


def _has_ticket(response: httpx.Response) -> bool:
    if not _is_json(response):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    ticket = body.get("ticket") if isinstance(body, dict) else None
    return isinstance(ticket, str) and ticket != ""
