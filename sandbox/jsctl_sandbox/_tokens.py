"""Connection tokens: creation rules, rendering and the checks KoKo makes when using one."""

from __future__ import annotations

import secrets
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._clock import format_datetime
from ._model import Asset, AssetGrant, User
from ._serialize import actions, related
from ._state import SandboxState, Ticket

ONETIME_EXPIRATION = 300
REUSABLE_EXPIRATION = 30 * 86400
PERM_CHECK_GRACE = 60  # account permission is re-checked only after the first minute
# What the server adds to a token's connect_options (capture 46; Luna sends more of its own).
_DEFAULT_OPTIONS = {
    "file_name_conflict_resolution": "replace",
    "terminal_theme_name": "Default",
    "lang": "en",
}


class TokenRefused(Exception):
    """A creation error; ``body`` is what the API answers with status 400."""

    def __init__(self, body: Any) -> None:
        super().__init__(str(body))
        self.body = body


@dataclass
class ConnectionToken:
    """A one-time (or reusable) permission to open one terminal or file session."""

    id: str
    value: str
    user_id: str
    asset_id: str
    account: str
    protocol: str
    connect_method: str
    input_username: str
    input_secret: str
    connect_options: dict[str, Any]
    is_reusable: bool
    is_active: bool
    remote_addr: str
    org_id: str
    date_created: float
    date_expired: float
    from_ticket_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expired(self, now: float) -> bool:
        """Whether the token can no longer be used."""
        return self.date_expired <= now


def _required(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, list[str]]:
    return {n: ["This field is required."] for n in names if data.get(n) in (None, "")}


def validate_create(
    state: SandboxState, user: User, data: dict[str, Any]
) -> tuple[Asset, AssetGrant, str]:
    """Check a POST body; returns the asset, the user's grant on it and the account alias."""
    missing = _required(data, ("asset", "account", "protocol", "connect_method"))
    if missing:
        raise TokenRefused(missing)
    asset_ref = data["asset"]
    asset_id = str(asset_ref.get("id", "") if isinstance(asset_ref, dict) else asset_ref)
    asset = state.directory.assets.get(asset_id)
    if asset is None:
        raise TokenRefused({"asset": [f'Invalid pk "{asset_id}" - object does not exist.']})
    alias = str(data["account"])
    grant = state.directory.grant(user, asset, state.clock.now())
    invalid = {"code": "perm_account_invalid", "detail": "Account not found"}
    if grant is None or (
        grant.date_expired is not None and grant.date_expired <= state.clock.now()
    ):
        raise TokenRefused(invalid)
    if alias == "@ANON":
        raise TokenRefused(["Anonymous account is not supported for this asset"])
    if alias not in grant.virtual and alias not in {a.id for a in grant.accounts}:
        raise TokenRefused(invalid)
    return asset, grant, alias


def new_token(
    state: SandboxState,
    user: User,
    asset: Asset,
    alias: str,
    data: dict[str, Any],
    remote_addr: str,
) -> ConnectionToken:
    """Create and store a token from a validated body."""
    now = state.clock.now()
    options = dict(_DEFAULT_OPTIONS)
    if isinstance(data.get("connect_options"), dict):
        options.update(data["connect_options"])
    virtual = alias.startswith("@")
    alphabet = string.ascii_letters + string.digits
    token = ConnectionToken(
        id=str(uuid.uuid4()),
        value="".join(secrets.choice(alphabet) for _ in range(16)),
        user_id=user.id,
        asset_id=asset.id,
        account=alias,
        protocol=str(data["protocol"]),
        connect_method=str(data["connect_method"]),
        input_username=str(data.get("input_username") or "") if virtual else "",
        input_secret=state.password_key.decrypt_field(
            str(data.get("input_secret") or ""), state.version.password_separator
        ),
        connect_options=options,
        is_reusable=bool(data.get("is_reusable", False)),
        is_active=True,
        remote_addr=remote_addr,
        org_id=asset.org_id,
        date_created=now,
        date_expired=now + ONETIME_EXPIRATION,
    )
    state.connection_tokens[token.id] = token
    return token


def open_ticket(state: SandboxState, token: ConnectionToken, user: User, asset: Asset) -> Ticket:
    """Put a token under review: inactive until the ticket is approved."""
    ticket = Ticket(
        id=str(uuid.uuid4()),
        title=f"Connection token review: {user.display} -> {asset.name}",
        applicant_id=user.id,
        token_id=token.id,
        date_created=state.clock.now(),
    )
    state.tickets[ticket.id] = ticket
    token.is_active = False
    token.from_ticket_id = ticket.id
    return ticket


def render(state: SandboxState, token: ConnectionToken) -> dict[str, Any]:
    """The token JSON of sheet 6.1."""
    now = state.clock.now()
    directory = state.directory
    user = directory.users[token.user_id]
    asset = directory.assets[token.asset_id]
    grant = directory.grant(user, asset, now)
    org = directory.orgs.get(token.org_id)
    ticket = state.tickets.get(token.from_ticket_id or "")
    ticket_info: dict[str, Any] = {}
    if ticket is not None:
        url = f"/api/v1/tickets/tickets/{ticket.id}/"
        ticket_info = {
            "check_ticket_api": {"method": "GET", "url": url},
            "close_ticket_api": {"method": "PUT", "url": f"{url}close/"},
            "ticket_detail_page_url": f"/ui/#/tickets/tickets/{ticket.id}",
            "assignees": ["Administrator(admin)"],
        }
    body: dict[str, Any] = {
        "id": token.id,
        "value": token.value,
        "user": related(user.id, user.display),
        "asset": related(asset.id, f"{asset.name}({asset.address})"),
        "account": token.account,
        "input_username": token.input_username,
        "connect_method": token.connect_method,
        "connect_options": token.connect_options,
        "protocol": token.protocol,
        "actions": actions(grant.actions if grant else []),
        "is_active": token.is_active,
        "is_reusable": token.is_reusable,
        "from_ticket": related(ticket.id, ticket.title) if ticket else None,
        "from_ticket_info": ticket_info,
        "date_expired": format_datetime(token.date_expired),
        "date_created": format_datetime(token.date_created),
        "date_updated": format_datetime(token.date_created),
        "created_by": user.display,
        "updated_by": user.display,
        "org_id": token.org_id,
        "org_name": org.name if org else "",
        "face_monitor_token": None,
        "remote_addr": token.remote_addr,
        "expire_time": max(0, int(token.date_expired - now)),
        "is_expired": token.expired(now),
        "user_display": user.display,
        "asset_display": f"{asset.name}({asset.address})",
    }
    if not state.version.is_v4:
        del body["face_monitor_token"], body["remote_addr"]
    if state.version.at_least(4, 10, 17):
        body["input_secret_type"] = {"value": "password", "label": "Password"}
    return body
