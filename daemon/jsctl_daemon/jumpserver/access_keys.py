"""Durable access keys: create one through the re-confirmation gate (sheet 4.2), or revoke it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsctl_daemon.jumpserver._responses import describe, parse_json, summarise_detail
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import (
    AccessKeyLimit,
    AuthFailed,
    BadResponse,
    ConfirmRequired,
    InvalidRequest,
)
from jsctl_daemon.jumpserver.signature import AccessKey

__all__ = [
    "ConfirmSecret",
    "confirm_identity",
    "confirm_method",
    "create_access_key",
    "revoke_access_key",
]

CONFIRM = "/api/v1/authentication/confirm/"
ACCESS_KEYS = "/api/v1/authentication/access-keys/"


@dataclass(frozen=True)
class ConfirmSecret:
    """What proves the user again: an MFA type and code, or the password. Memory only."""

    password: str | None = field(default=None, repr=False)
    mfa_type: str | None = None
    code: str | None = field(default=None, repr=False)


async def confirm_method(conn: Connection) -> tuple[str, list[str]]:
    """The confirmation JumpServer wants (``mfa`` or ``password``) and the usable choices."""
    body = await conn.get_json(CONFIRM, params={"confirm_type": "password"}, auth="cookie")
    if not isinstance(body, dict) or not isinstance(body.get("confirm_type"), str):
        raise BadResponse(f"GET {CONFIRM}", "no confirm_type in the answer")
    content = body.get("content")
    if not isinstance(content, list):
        content = []
    names = [
        str(item.get("name"))
        for item in content
        if isinstance(item, dict) and item.get("name") and not item.get("disabled")
    ]
    return body["confirm_type"], names


async def confirm_identity(conn: Connection, secret: ConfirmSecret) -> None:
    """Satisfy the confirmation gate in ``conn``'s session with ``secret``."""
    confirm_type, _choices = await confirm_method(conn)
    body: dict[str, Any]
    if confirm_type == "mfa":
        if not secret.mfa_type or not secret.code:
            raise ConfirmRequired("mfa")
        body = {"confirm_type": "mfa", "mfa_type": secret.mfa_type, "secret_key": secret.code}
    else:
        if secret.password is None:
            raise ConfirmRequired(confirm_type)
        body = {"confirm_type": "password", "secret_key": secret.password}
    response = await conn.request("POST", CONFIRM, json=body, auth="cookie", allow=(400,))
    if response.status_code == 400:
        answer = parse_json(response)
        raise AuthFailed("confirm_failed", summarise_detail(answer) or "confirmation refused")


async def create_access_key(conn: Connection, secret: ConfirmSecret) -> AccessKey:
    """Confirm with ``secret`` in the logged-in session of ``conn``, then create a key."""
    await confirm_identity(conn, secret)
    response = await conn.request(
        "POST", ACCESS_KEYS, json={"ip_group": ["*"]}, auth="cookie", allow=(400,)
    )
    body = parse_json(response)
    if response.status_code == 400:
        # The only validation on an empty-ish body is the per-user key limit (a bare list).
        if isinstance(body, list):
            raise AccessKeyLimit(summarise_detail(body))
        raise InvalidRequest(summarise_detail(body))
    if not isinstance(body, dict) or not body.get("id") or not body.get("secret"):
        raise BadResponse(describe(response), "the new access key has no id or secret")
    return AccessKey(id=str(body["id"]), secret=str(body["secret"]))


async def revoke_access_key(conn: Connection, key_id: str) -> None:
    """Delete an access key (already gone counts as done)."""
    await conn.request("DELETE", f"{ACCESS_KEYS}{key_id}/", allow=(404,))
