"""Django-style CSRF secrets, masked form tokens and the Origin/Referer checks."""

from __future__ import annotations

import secrets
import string
from urllib.parse import urlsplit

_CHARS = string.ascii_letters + string.digits
SECRET_LENGTH = 32


class CsrfFailure(Exception):
    """A CSRF check failed; ``str(exc)`` is Django's reason text."""


def new_secret() -> str:
    """A fresh 32-character CSRF secret (the cookie value)."""
    return "".join(secrets.choice(_CHARS) for _ in range(SECRET_LENGTH))


def mask(secret: str) -> str:
    """A 64-character masked token for the HTML form (changes every render)."""
    salt = "".join(secrets.choice(_CHARS) for _ in range(SECRET_LENGTH))
    pairs = zip((_CHARS.index(c) for c in secret), (_CHARS.index(c) for c in salt), strict=True)
    return salt + "".join(_CHARS[(x + y) % len(_CHARS)] for x, y in pairs)


def _unmask(token: str) -> str:
    salt, cipher = token[:SECRET_LENGTH], token[SECRET_LENGTH:]
    pairs = zip((_CHARS.index(c) for c in cipher), (_CHARS.index(c) for c in salt), strict=True)
    return "".join(_CHARS[x - y] for x, y in pairs)


def token_matches(token: str, secret: str) -> bool:
    """Whether a submitted token (bare secret or masked) matches the cookie secret."""
    if any(c not in _CHARS for c in token):
        return False
    if len(token) == SECRET_LENGTH:
        return secrets.compare_digest(token, secret)
    if len(token) == 2 * SECRET_LENGTH:
        return secrets.compare_digest(_unmask(token), secret)
    return False


def check_origin(
    *, scheme: str, host: str, origin: str | None, referer: str | None, secure: bool
) -> None:
    """Django's origin check: a sent Origin must be this site; the Referer rule applies only to
    requests Django sees as secure (``secure``: behind a proxy that sets X-Forwarded-Proto)."""
    good = f"{scheme}://{host}"
    if origin is not None:
        if origin != good:
            raise CsrfFailure(
                f"Origin checking failed - {origin} does not match any trusted origins."
            )
        return
    if not secure:
        return
    if not referer:
        raise CsrfFailure("Referer checking failed - no Referer.")
    parts = urlsplit(referer)
    if parts.scheme != "https":
        raise CsrfFailure("Referer checking failed - Referer is insecure while host is secure.")
    if parts.netloc != host:
        raise CsrfFailure(
            f"Referer checking failed - {referer} does not match any trusted origins."
        )


def check_token(*, cookie_secret: str | None, submitted: str | None, source: str) -> None:
    """The token half of the check; ``source`` names where the token came from."""
    if not cookie_secret:
        raise CsrfFailure("CSRF cookie not set.")
    if not submitted:
        raise CsrfFailure("CSRF token missing.")
    if not token_matches(submitted, cookie_secret):
        raise CsrfFailure(f"CSRF token from {source} incorrect.")
