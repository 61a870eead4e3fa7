"""Helpers for file tests: a scratch directory under an asset's file root."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jsctl_fixtures import LoggedIn

from jsctl_sandbox.testing import SandboxInfo, csrf_headers, web_login

ASSET = "web-01"
ASSETS_API = "/api/v1/perms/users/self/assets/"
TOKENS_API = "/api/v1/authentication/connection-token/"


@dataclass
class Remote:
    """A scratch directory under an asset's file root, seen locally and through jsctl."""

    asset: str
    local: Path  # the directory on this machine (the sandbox's asset file root + name)
    path: str  # the same directory as a remote path relative to the file root

    def ref(self, *parts: str) -> str:
        """``ASSET:/scratch/parts``."""
        return f"{self.asset}:{'/'.join([self.path, *parts])}"


def file_root(login: LoggedIn, asset: str = ASSET) -> Path:
    """Where the sandbox keeps an asset's SFTP root."""
    return login.sandbox.data_dir / "assets" / asset / "tmp"


def token_and_cookie(info: SandboxInfo, username: str, asset: str) -> tuple[str, str]:
    """A fresh web_sftp connection token and the web-session Cookie header (plain httpx)."""
    client = web_login(info, username)
    try:
        found = client.get(ASSETS_API, params={"search": asset}).json()
        asset_id = next(a["id"] for a in found if a["name"] == asset)
        detail = client.get(f"{ASSETS_API}{asset_id}/").json()
        alias = next(a["alias"] for a in detail["permed_accounts"] if a["alias"][0] != "@")
        body = {
            "asset": asset_id,
            "account": alias,
            "protocol": "sftp",
            "connect_method": "web_sftp",
        }
        answer = client.post(TOKENS_API, json=body, headers=csrf_headers(info, client))
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return str(answer.json()["id"]), cookie
    finally:
        client.close()
