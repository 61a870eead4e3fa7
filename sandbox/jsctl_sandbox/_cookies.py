"""Set-Cookie headers written byte for byte like Django's (no implicit quoting)."""

from __future__ import annotations

from email.utils import formatdate
from http.cookies import SimpleCookie

CSRF_COOKIE_AGE = 31449600  # Django's CSRF_COOKIE_AGE: one year (52 weeks)


def set_cookie_header(
    name: str,
    value: str,
    *,
    now: float,
    max_age: int | None = None,
    http_only: bool = False,
    same_site: str | None = "Lax",
) -> str:
    """One Set-Cookie value; the cookie value is written bare, exactly as given."""
    parts = [f"{name}={value}"]
    if max_age is not None:
        parts.append(f"expires={formatdate(now + max_age, usegmt=True)}")
    if http_only:
        parts.append("HttpOnly")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts.append("Path=/")
    if same_site:
        parts.append(f"SameSite={same_site}")
    return "; ".join(parts)


def delete_cookie_header(name: str) -> str:
    """A Set-Cookie value that makes the browser forget ``name``."""
    return f'{name}=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax'


def parse_cookie_header(header: str) -> dict[str, str]:
    """Request cookies from a Cookie header (tolerates junk like browsers do)."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.strip().partition("=")
        if not sep or not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(f"x={value}")
                value = parsed["x"].value
            except Exception:
                value = value[1:-1]
        cookies[name.strip()] = value
    return cookies
