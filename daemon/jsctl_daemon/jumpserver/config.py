"""Where a JumpServer lives and how to trust it: URL, TLS options, organisation, timeouts."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

__all__ = ["ServerConfig"]


@dataclass(frozen=True)
class ServerConfig:
    """One JumpServer site as the user configured it."""

    url: str
    ca_file: str | None = None
    insecure: bool = False
    org: str | None = None
    timeout: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {self.url!r} (expected https://jms.example.com)")
        # One canonical form: scheme://host[:port][/prefix] without a trailing slash.
        base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        object.__setattr__(self, "url", base)

    @cached_property  # asked per request and per terminal; the URL never changes
    def scheme(self) -> str:
        """``https`` or ``http``."""
        return urlsplit(self.url).scheme

    @cached_property
    def host(self) -> str:
        """The host name or address, without port."""
        return urlsplit(self.url).hostname or ""

    @cached_property
    def port(self) -> int:
        """The TCP port, defaulting by scheme."""
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @cached_property
    def netloc(self) -> str:
        """``host[:port]`` as it appears in the URL (the ``Host`` header value)."""
        return urlsplit(self.url).netloc

    @cached_property
    def base_path(self) -> str:
        """A path prefix the site is mounted under ("" for the usual root mount)."""
        return urlsplit(self.url).path

    def absolute(self, path: str) -> str:
        """The full URL of a server path such as ``/api/v1/users/profile/``."""
        return self.url + path

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for https sites (None for plain http)."""
        if self.scheme != "https":
            return None
        if self.insecure:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return ssl.create_default_context(cafile=self.ca_file)
