"""Access-key request signing (draft-cavage HTTP Signatures, hmac-sha256) as an ``httpx.Auth``."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator
from dataclasses import dataclass, field
from email.utils import formatdate

import httpx

__all__ = ["AccessKey", "SignatureAuth", "sign", "signature_header", "signing_string"]

SIGNED_HEADERS = ("(request-target)", "date")


@dataclass(frozen=True)
class AccessKey:
    """A durable JumpServer API key: its id and its secret."""

    id: str
    secret: str = field(repr=False)


def signing_string(method: str, target: str, date: str) -> str:
    """The text JumpServer signs: request target line, then the ``date`` line."""
    return f"(request-target): {method.lower()} {target}\ndate: {date}"


def signature_header(key: AccessKey, method: str, target: str, date: str) -> str:
    """The full ``Authorization`` header value for one request."""
    text = signing_string(method, target, date).encode()
    digest = hmac.new(key.secret.encode(), text, hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    return (
        f'Signature keyId="{key.id}",algorithm="hmac-sha256",'
        f'headers="{" ".join(SIGNED_HEADERS)}",signature="{signature}"'
    )


def request_target(request: httpx.Request) -> str:
    """Path plus query exactly as they go on the wire."""
    return request.url.raw_path.decode("ascii")


def sign(request: httpx.Request, key: AccessKey) -> None:
    """Set the request's ``Date`` (IMF-fixdate) if absent, and its signed ``Authorization``."""
    date = request.headers.get("Date") or formatdate(usegmt=True)
    request.headers["Date"] = date
    request.headers["Authorization"] = signature_header(
        key, request.method, request_target(request), date
    )


class SignatureAuth(httpx.Auth):
    """Signs each request with an access key; sets ``Date`` (IMF-fixdate) if absent."""

    def __init__(self, key: AccessKey) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign(request, self.key)
        yield request
