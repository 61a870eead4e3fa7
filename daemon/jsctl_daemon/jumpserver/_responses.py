"""Turn JumpServer's HTTP answers (sheet section 1 error shapes) into our exceptions."""

from __future__ import annotations

import json
from typing import Any

import httpx

from jsctl_daemon.jumpserver.errors import (
    BadResponse,
    ConfirmRequired,
    InvalidRequest,
    JumpServerError,
    LoginRequired,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    server_text,
)

__all__ = ["describe", "error_for", "parse_json", "retry_after_seconds", "summarise_detail"]


def describe(response: httpx.Response) -> str:
    """``GET /api/v1/...`` — names the request in messages (no query: it may hold tokens)."""
    return f"{response.request.method} {response.request.url.path}"


def parse_json(response: httpx.Response) -> Any:
    """The JSON body, or BadResponse naming the URL when the body is not JSON."""
    try:
        return json.loads(response.content)
    except ValueError:
        kind = response.headers.get("content-type", "no content type")
        raise BadResponse(
            describe(response), f"HTTP {response.status_code} with a non-JSON body ({kind})"
        ) from None


def _try_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def summarise_detail(body: Any) -> str:
    """A one-line text from any of JumpServer's error bodies (detail, error/msg, field dicts)."""
    if isinstance(body, str):
        return server_text(body)
    if isinstance(body, list):
        return "; ".join(summarise_detail(item) for item in body)
    if isinstance(body, dict):
        for key in ("detail", "msg", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return server_text(value)
        return "; ".join(f"{key}: {summarise_detail(value)}" for key, value in body.items())
    return "" if body is None else str(body)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` delay in seconds, if the server sent a numeric one."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(response: httpx.Response, *, signed: bool) -> JumpServerError:
    """The exception for an unsuccessful answer (the caller already handled expected ones)."""
    status = response.status_code
    body = _try_json(response)
    detail = summarise_detail(body) if body is not None else ""
    code = body.get("code") if isinstance(body, dict) else None
    where = describe(response)
    if status == 401:
        if code == "authentication_failed" and signed:
            return LoginRequired(f"was rejected (access key: {detail})")
        return LoginRequired("has expired" if not signed else f"was rejected ({detail})")
    if status == 412 and isinstance(body, dict) and body.get("type") == "user_confirm_required":
        return ConfirmRequired(str(body.get("code") or "password"))
    if status == 403:
        return PermissionDenied(detail or f"HTTP 403 at {where}")
    if status == 404:
        return NotFound(where, detail)
    if status == 429:
        return RateLimited(retry_after_seconds(response))
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        return BadResponse(where, f"redirect {status} to {location or '(nowhere)'}")
    if status >= 500:
        hint = ""
        if signed and body is None:
            # JumpServer answers an unknown access key id with a 500 HTML page.
            hint = "if this persists the access key may have been deleted: run `jsctl login`"
        return ServerError(status, where, hint)
    if 400 <= status < 500:
        if body is None:
            return BadResponse(where, f"HTTP {status} with a non-JSON body")
        return InvalidRequest(detail or f"HTTP {status}", code if isinstance(code, str) else None)
    return BadResponse(where, f"unexpected HTTP {status}")
