"""The ``Cookie`` header of one request, picked from the connection's jar.

httpx works this out by copying the whole jar into a new one for every request it builds; a
fleet's first contacts send hundreds of requests, so the connection asks here instead. The
jar only ever holds the one site's cookies (the server's, or ones we persisted for its host).
"""

from __future__ import annotations

import time
from http.cookiejar import CookieJar

LANGUAGE_COOKIE = "django_language"  # never sent: we ask for English with Accept-Language


def path_matches(path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: whether a cookie for ``cookie_path`` goes with a request to ``path``."""
    if path == cookie_path or not cookie_path:
        return True
    return path.startswith(cookie_path) and (
        cookie_path.endswith("/") or path[len(cookie_path)] == "/"
    )


def request_cookie(jar: CookieJar, path: str, https: bool) -> str | None:
    """The header for a request to ``path`` (without its query): the unexpired cookies whose
    path covers it, Secure ones on https only, the language cookie left out."""
    now = int(time.time())
    pairs = [
        f"{c.name}={c.value}"
        for c in jar
        if c.value is not None
        and c.name != LANGUAGE_COOKIE
        and not c.is_expired(now)
        and (https or not c.secure)
        and path_matches(path, c.path)
    ]
    return "; ".join(pairs) if pairs else None
