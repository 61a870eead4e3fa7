"""Typed REST calls the daemon makes (discovery, connection tokens, session probes).

Requests are signed with the connection's access key when it has one, else sent with the
web-session cookies; the web-session probes always use cookies only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from jsctl_daemon.jumpserver._responses import parse_json
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import (
    BadResponse,
    LoginRequired,
    NotAJumpServer,
)
from jsctl_daemon.jumpserver.models import (
    Asset,
    AssetDetail,
    ConnectionToken,
    Node,
    Org,
    Profile,
    TreeNode,
)

__all__ = ["JumpServerAPI"]

PROFILE = "/api/v1/users/profile/"
PROFILE_PERMISSIONS = "/api/v1/users/profile/permissions/"
USER_SESSION = "/api/v1/authentication/user-session/"
CURRENT_ORG = "/api/v1/orgs/orgs/current/"
PERMS = "/api/v1/perms/users/self"
CONNECT_METHODS = "/api/v1/terminal/components/connect-methods/"
TOKENS = "/api/v1/authentication/connection-token/"
HEALTH = "/api/health/"
PUBLIC_SETTINGS = "/api/v1/settings/public/"


def _object(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadResponse(where, "expected a JSON object")
    return body


def _objects(body: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(body, list):
        raise BadResponse(where, "expected a JSON list")
    return [item for item in body if isinstance(item, dict)]


class JumpServerAPI:
    """The REST surface of one JumpServer site, over a :class:`Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- identity and sessions ---------------------------------------------------------------

    async def profile(self, *, cookie_only: bool = False) -> Profile:
        """The current user (``cookie_only`` tests the web session itself, as KoKo does)."""
        body = await self.conn.get_json(PROFILE, auth="cookie" if cookie_only else "auto")
        return Profile.from_json(_object(body, f"GET {PROFILE}"))

    async def web_session_alive(self) -> bool:
        """Whether the web-session cookie is still logged in (the probe before KoKo)."""
        try:
            await self.profile(cookie_only=True)
        except LoginRequired:
            return False
        return True

    async def keepalive(self) -> bool:
        """Slide the web session's 24 h expiry; False when it is already gone (v4.3+)."""
        response = await self.conn.request("GET", USER_SESSION, auth="cookie", allow=(401, 403))
        return response.status_code == 200

    async def max_idle_minutes(self) -> int | None:
        """The server's ``SECURITY_MAX_IDLE_TIME`` (minutes), which KoKo enforces.

        Any valid user reads it from the public settings (v3.10 … v4.10: ``PublicSettingApi``
        with ``IsValidUserOrConnectionToken``); None when the answer does not carry a number.
        """
        body = _object(await self.conn.get_json(PUBLIC_SETTINGS), f"GET {PUBLIC_SETTINGS}")
        value = body.get("SECURITY_MAX_IDLE_TIME")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            return None
        return value

    async def orgs(self) -> list[Org]:
        """Organisations the user may work in (the workbench list)."""
        body = _object(await self.conn.get_json(PROFILE_PERMISSIONS), f"GET {PROFILE_PERMISSIONS}")
        return [Org.from_json(o) for o in body.get("workbench_orgs") or [] if isinstance(o, dict)]

    async def current_org(self, org: str | None = None) -> Org:
        """The organisation the server resolves ``org`` (or the configured one) to."""
        body = await self.conn.get_json(CURRENT_ORG, org=org)
        return Org.from_json(_object(body, f"GET {CURRENT_ORG}"))

    # -- discovery ---------------------------------------------------------------------------

    async def iter_assets(
        self,
        *,
        search: str | None = None,
        node_id: str | None = None,
        page_size: int = 200,
        org: str | None = None,
    ) -> AsyncIterator[list[Asset]]:
        """Permitted assets, one page at a time."""
        params: dict[str, str | int] = {}
        if search:
            params["search"] = search
        if node_id:
            params["node_id"] = node_id
        async for page in self.conn.iter_pages(
            f"{PERMS}/assets/", params, page_size=page_size, org=org
        ):
            yield [Asset.from_json(item) for item in page if isinstance(item, dict)]

    async def assets(self, **filters: Any) -> list[Asset]:
        """All permitted assets (every page); same filters as :meth:`iter_assets`."""
        found: list[Asset] = []
        async for page in self.iter_assets(**filters):
            found.extend(page)
        return found

    async def asset(self, asset_id: str) -> AssetDetail:
        """One asset with its permitted protocols and accounts."""
        path = f"{PERMS}/assets/{asset_id}/"
        return AssetDetail.from_json(_object(await self.conn.get_json(path), f"GET {path}"))

    async def nodes(self, org: str | None = None) -> list[Node]:
        """Every permitted node (including the synthetic ``favorite`` entry)."""
        items = await self.conn.get_all(f"{PERMS}/nodes/", org=org)
        return [Node.from_json(item) for item in items if isinstance(item, dict)]

    async def node_children(self, key: str | None = None, org: str | None = None) -> list[Node]:
        """Children of the node with ``key`` (None: what the server gives for the top)."""
        params = {"key": key} if key else None
        items = await self.conn.get_all(f"{PERMS}/nodes/children/", params, org=org)
        return [Node.from_json(item) for item in items if isinstance(item, dict)]

    async def node_tree(
        self, key: str | None = None, *, with_assets: bool = False, org: str | None = None
    ) -> list[TreeNode]:
        """zTree entries under ``key`` (lazy tree), optionally with the assets."""
        kind = "children-with-assets" if with_assets else "children"
        path = f"{PERMS}/nodes/{kind}/tree/"
        body = await self.conn.get_json(path, params={"key": key} if key else None, org=org)
        return [TreeNode.from_json(item) for item in _objects(body, f"GET {path}")]

    async def connect_methods(self) -> dict[str, list[dict[str, Any]]]:
        """Connect methods per protocol (``web_cli``, ``web_sftp``, …)."""
        body = _object(await self.conn.get_json(CONNECT_METHODS), f"GET {CONNECT_METHODS}")
        return {
            name: [m for m in methods if isinstance(m, dict)]
            for name, methods in body.items()
            if isinstance(methods, list)
        }

    # -- connection tokens -------------------------------------------------------------------

    async def create_connection_token(
        self,
        asset_id: str,
        account_alias: str,
        *,
        protocol: str = "ssh",
        connect_method: str = "web_cli",
        input_username: str | None = None,
        input_secret: str | None = None,
        create_ticket: bool = False,
    ) -> ConnectionToken:
        """A one-time token for one terminal/file session (InvalidRequest.code on refusal)."""
        body: dict[str, Any] = {
            "asset": asset_id,
            "account": account_alias,
            "protocol": protocol,
            "connect_method": connect_method,
            "connect_options": {},
        }
        if input_username:
            body["input_username"] = input_username
        if input_secret:
            body["input_secret"] = input_secret
        params = {"create_ticket": "1"} if create_ticket else None
        answer = await self.conn.send_json("POST", TOKENS, body, params=params)
        return ConnectionToken.from_json(_object(answer, f"POST {TOKENS}"))

    async def expire_connection_token(self, token_id: str) -> None:
        """Expire a token now; one KoKo already consumed (404) counts as done."""
        await self.conn.request("PATCH", f"{TOKENS}{token_id}/expire/", json={}, allow=(404,))

    async def smart_endpoint(self, token_id: str, protocol: str) -> dict[str, Any]:
        """Which KoKo serves this token's asset (Luna's "smart endpoint"); {} when the server
        has no such API (the core's own host then serves it)."""
        response = await self.conn.request(
            "GET",
            "/api/v1/terminal/endpoints/smart/",
            params={"protocol": protocol, "token": token_id},
            allow=(404,),
        )
        if response.status_code == 404:
            return {}
        answer = parse_json(response)
        return answer if isinstance(answer, dict) else {}

    async def exchange_connection_token(self, token_id: str) -> ConnectionToken:
        """A fresh token for the same asset/account/protocol as ``token_id``."""
        answer = await self.conn.send_json("POST", f"{TOKENS}exchange/", {"id": token_id})
        return ConnectionToken.from_json(_object(answer, f"POST {TOKENS}exchange/"))

    async def ticket(self, url: str) -> dict[str, Any]:
        """A ticket (login or ACL review) by the API path JumpServer handed us."""
        return _object(await self.conn.get_json(url), f"GET {url}")

    # -- health ------------------------------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        """Core health (no auth); NotAJumpServer when the answer is not JumpServer's."""
        try:
            response = await self.conn.request("GET", HEALTH, auth="cookie", allow=range(300, 600))
            body = parse_json(response)
        except BadResponse as exc:
            raise NotAJumpServer(self.conn.config.url, exc.why) from None
        if not isinstance(body, dict) or "status" not in body:
            raise NotAJumpServer(self.conn.config.url, f"{HEALTH} has no `status`")
        return body
