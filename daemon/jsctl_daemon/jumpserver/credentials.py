"""What the daemon persists per profile after a login (it writes this to a 0600 file)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.signature import AccessKey

__all__ = ["Credentials"]

FORMAT_VERSION = 1


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"credentials field `{key}` must be a string")


@dataclass
class Credentials:
    """A profile's durable JumpServer state: server, user, web-session cookies, access key."""

    url: str
    username: str
    ca_file: str | None = None
    insecure: bool = False
    org: str | None = None
    cookies: dict[str, str] = field(default_factory=dict, repr=False)
    access_key_id: str | None = None
    access_key_secret: str | None = field(default=None, repr=False)
    saved_at: float = field(default_factory=time.time)

    @property
    def server(self) -> ServerConfig:
        """The site these credentials belong to."""
        return ServerConfig(self.url, ca_file=self.ca_file, insecure=self.insecure, org=self.org)

    @property
    def access_key(self) -> AccessKey | None:
        """The durable REST key, if one was created."""
        if self.access_key_id and self.access_key_secret:
            return AccessKey(self.access_key_id, self.access_key_secret)
        return None

    def connection(self) -> Connection:
        """A Connection carrying these cookies and access key."""
        conn = Connection(self.server, access_key=self.access_key)
        conn.import_cookies(self.cookies)
        return conn

    def update_cookies(self, conn: Connection) -> None:
        """Take the (possibly re-issued) cookies from ``conn``'s jar."""
        self.cookies = conn.export_cookies()
        self.saved_at = time.time()

    @classmethod
    def from_login(
        cls, conn: Connection, username: str, access_key: AccessKey | None
    ) -> Credentials:
        """Credentials from a connection that just finished a web login."""
        config = conn.config
        return cls(
            url=config.url,
            username=username,
            ca_file=config.ca_file,
            insecure=config.insecure,
            org=config.org,
            cookies=conn.export_cookies(),
            access_key_id=access_key.id if access_key else None,
            access_key_secret=access_key.secret if access_key else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON/msgpack-friendly dict (contains secrets: store it 0600)."""
        return {
            "version": FORMAT_VERSION,
            "url": self.url,
            "username": self.username,
            "ca_file": self.ca_file,
            "insecure": self.insecure,
            "org": self.org,
            "cookies": dict(self.cookies),
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "saved_at": self.saved_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credentials:
        """Inverse of :meth:`to_dict`; ValueError names the bad field."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown credentials format version {data.get('version')!r}")
        cookies = data.get("cookies") or {}
        if not isinstance(cookies, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in cookies.items()
        ):
            raise ValueError("credentials field `cookies` must map names to strings")
        url, username = _opt_str(data, "url"), _opt_str(data, "username")
        if not url or username is None:
            raise ValueError("credentials need `url` and `username`")
        saved_at = data.get("saved_at")
        return cls(
            url=url,
            username=username,
            ca_file=_opt_str(data, "ca_file"),
            insecure=bool(data.get("insecure", False)),
            org=_opt_str(data, "org"),
            cookies=dict(cookies),
            access_key_id=_opt_str(data, "access_key_id"),
            access_key_secret=_opt_str(data, "access_key_secret"),
            saved_at=float(saved_at) if isinstance(saved_at, int | float) else time.time(),
        )
