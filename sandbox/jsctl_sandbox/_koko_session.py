"""Payloads the terminal endpoint sends about a grant: CONNECT, TERMINAL_SESSION, SHARE_JOIN."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from jsctl_sandbox.koko_contract import KokoGrant, KokoSettings, KokoUser

__all__ = ["TERMINAL_ID", "connect_data", "koko_time", "session_data", "share_join_data"]

# This sandbox's KoKo "terminal" component id (one per process, like a registered KoKo).
TERMINAL_ID = str(uuid.uuid4())


def koko_time(moment: datetime | None = None) -> str:
    """KoKo's timestamp format in session payloads, e.g. ``2026-01-01 10:00:00 +0000``."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S %z")


def user_label(user: KokoUser) -> str:
    """``Name(username)`` as KoKo shows users."""
    return f"{user.name}({user.username})"


def _user_info(user: KokoUser) -> dict[str, Any]:
    if user.profile:
        return dict(user.profile)
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "email": user.email,
        "role": "User",
        "is_valid": True,
        "is_active": True,
        "otp_level": 0,
        "lang": "en",
        "is_superuser": False,
        "org_roles": [],
        "system_roles": [],
    }


def _asset_info(grant: KokoGrant) -> dict[str, Any]:
    if grant.asset_info:
        return dict(grant.asset_info)
    return {
        "id": grant.asset_id,
        "name": grant.asset_name,
        "address": grant.asset_address,
        "org_id": grant.org_id,
        "org_name": grant.org_name,
        "platform": dict(grant.platform),
        "protocols": [{"name": grant.protocol, "port": 22, "public": True}],
        "spec_info": {},
        "secret_info": {},
        "domain": None,
        "comment": "",
        "is_active": True,
    }


def connect_data(user: KokoUser, grant: KokoGrant, settings: KokoSettings) -> dict[str, Any]:
    """CONNECT ``data``: the user, public settings and (v4) the asset."""
    setting = {
        "INTERFACE": {"login_title": "JumpServer", "theme": "classic_green"},
        "SECURITY_WATERMARK_ENABLED": False,
        "SECURITY_SESSION_SHARE": True,
        "ANNOUNCEMENT_ENABLED": False,
        "ANNOUNCEMENT": {},
        "XPACK_ENABLED": False,
        "XPACK_LICENSE_IS_VALID": False,
    }
    data: dict[str, Any] = {"user": _user_info(user), "setting": setting}
    if not settings.version.startswith("3."):
        data["asset"] = _asset_info(grant)
    return data


def _uuid_or_empty(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return ""


def session_data(grant: KokoGrant, session_id: str, started: datetime) -> dict[str, Any]:
    """TERMINAL_SESSION ``data``: the audit session, permitted actions and UI preferences."""
    session = {
        "id": session_id,
        "user": user_label(grant.user),
        "asset": f"{grant.asset_name}({grant.asset_address})",
        "account": f"{grant.account_name}({grant.account_username})",
        "login_from": "WT",
        "remote_addr": grant.remote_addr,
        "protocol": grant.protocol,
        "date_start": koko_time(started),
        "org_id": grant.org_id,
        "user_id": grant.user.id,
        "asset_id": grant.asset_id,
        "account_id": _uuid_or_empty(grant.account_alias),
        "type": "normal",
        "token_id": grant.token_id,
        "terminal": TERMINAL_ID,
        "is_finished": False,
    }
    return {
        "session": session,
        "permission": {"actions": list(grant.actions)},
        "ctrlCAsCtrlZ": False,
        "themeName": "Default",
    }


def share_join_data(grant: KokoGrant, started: datetime) -> dict[str, Any]:
    """TERMINAL_SHARE_JOIN ``data`` for the session's own (primary) user."""
    return {
        "user_id": grant.user.id,
        "user": user_label(grant.user),
        "created": koko_time(started),
        "remote_addr": grant.remote_addr,
        "terminal_id": TERMINAL_ID,
        "primary": True,
        "writable": True,
    }
