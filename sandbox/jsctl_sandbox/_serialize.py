"""JSON renderings of users, orgs, assets, nodes and accounts as JumpServer shows them."""

from __future__ import annotations

import uuid
from typing import Any

from ._clock import format_datetime
from ._directory import Directory
from ._model import DEFAULT_ORG_ID, ROOT_ORG_ID, SYSTEM_ORG_ID, Asset, AssetGrant, Node, Org, User
from ._version import ServerVersion

_ACTION_LABELS = {
    "connect": "Connect (All protocols)",
    "upload": "Upload (RDP, SFTP)",
    "download": "Download (RDP, SFTP)",
    "copy": "Copy (RDP, VNC)",
    "paste": "Paste (RDP, VNC)",
    "delete": "Delete (SFTP)",
    "share": "Share (Web SSH, Web RDP, Web VNC)",
}
_MFA_LABELS = {0: "Disabled", 1: "Enabled", 2: "Force enabled"}


def choice(value: str, label: str | None = None) -> dict[str, str]:
    """A choice field {value,label}."""
    return {"value": value, "label": label if label is not None else value.capitalize()}


def related(obj_id: str, name: str) -> dict[str, str]:
    """A related object {id,name}."""
    return {"id": obj_id, "name": name}


def actions(names: list[str]) -> list[dict[str, str]]:
    """An actions list as choices."""
    return [choice(a, _ACTION_LABELS.get(a)) for a in names]


def org_info(org: Org) -> dict[str, Any]:
    """An org as orgs/current and workbench_orgs render it."""
    return {
        "id": org.id,
        "name": org.name,
        "is_default": org.id == DEFAULT_ORG_ID,
        "is_root": org.id == ROOT_ORG_ID,
        "is_system": org.id == SYSTEM_ORG_ID,
    }


def _system_roles(user: User) -> list[dict[str, str]]:
    admin = {"id": "00000000-0000-0000-0000-000000000001", "display_name": "SystemAdmin"}
    plain = {"id": "00000000-0000-0000-0000-000000000003", "display_name": "User"}
    return [admin, plain] if user.is_superuser else [plain]


def profile(user: User, *, login_blocked: bool) -> dict[str, Any]:
    """GET /api/v1/users/profile/ (every key the real v4.10.16 profile has, capture 17)."""
    avatar = "admin" if user.is_superuser else "user"
    return {
        "id": user.id,
        "name": user.name,
        "username": user.username,
        "email": user.email,
        "wechat": "",
        "phone": None,
        "mfa_level": {"value": user.mfa_level, "label": _MFA_LABELS[user.mfa_level]},
        "source": choice("local", "Local"),
        "avatar_url": f"/static/img/avatar/{avatar}.png",
        "groups": [],
        "system_roles": _system_roles(user),
        "labels": [],
        "password_strategy": choice("email", "Reset link will be generated and sent to the user"),
        "public_key_comment": "",
        "public_key_hash_md5": "",
        "guide_url": "",
        "lang": "en",
        "receive_backends": ["email", "site_msg"],
        "is_superuser": user.is_superuser,
        "is_service_account": False,
        "is_valid": user.is_active,
        "is_expired": False,
        "is_active": user.is_active,
        "is_otp_secret_key_bound": user.mfa_enabled,
        "can_public_key_auth": True,
        "mfa_enabled": user.mfa_level > 0,
        "need_update_password": user.need_update_password,
        "is_face_code_set": False,
        "mfa_force_enabled": user.mfa_level == 2,
        "is_first_login": user.last_login is None,
        "login_blocked": login_blocked,
        "date_expired": format_datetime(user.date_expired),
        "date_joined": format_datetime(user.date_joined),
        "last_login": format_datetime(user.last_login),
        "date_updated": format_datetime(user.date_joined),
        "date_api_key_last_used": format_datetime(user.date_api_key_last_used),
        "date_password_last_updated": format_datetime(user.date_joined),
        "created_by": "System",
        "updated_by": "System",
        "comment": None,
    }


def token_login_user(user: User, *, login_blocked: bool) -> dict[str, Any]:
    """The richer `user` object of a token-API login (adds org roles and IM ids, capture 15)."""
    data = profile(user, login_blocked=login_blocked)
    data.update(
        wecom_id=None,
        dingtalk_id=None,
        feishu_id=None,
        lark_id=None,
        slack_id=None,
        org_roles=[
            {
                "id": "00000000-0000-0000-0000-000000000007",
                "display_name": "OrgUser",
                "name": "OrgUser",
            }
        ],
        is_org_admin=user.is_superuser,
    )
    return data


def asset_item(asset: Asset, directory: Directory, version: ServerVersion) -> dict[str, Any]:
    """An item of the permitted-asset list."""
    org = directory.orgs.get(asset.org_id)
    return {
        "id": asset.id,
        "name": asset.name,
        "address": asset.address,
        "platform": {"id": asset.platform_id, "name": asset.platform_name},
        version.zone_field: None,
        "comment": asset.comment,
        "org_id": asset.org_id,
        "org_name": org.name if org else "",
        "is_active": asset.is_active,
        "date_verified": None,
        "created_by": "System",
        "date_created": format_datetime(asset.date_created),
        "connectivity": choice("-", "Unknown"),
        "nodes": [
            related(n, directory.nodes[n].value) for n in asset.node_ids if n in directory.nodes
        ],
        "labels": [],
        "category": choice("host", "Host"),
        "type": choice(asset.platform_type, asset.platform_name),
    }


def protocol_settings(asset: Asset) -> list[dict[str, Any]]:
    """permed_protocols (sftp_home defaults to /tmp)."""
    out = []
    for proto in asset.protocols:
        setting: dict[str, Any] = {}
        if proto.name == "ssh":
            setting = {"sftp_home": "/tmp", "sftp_enabled": True}
        elif proto.name == "sftp":
            setting = {"sftp_home": "/tmp"}
        out.append({"name": proto.name, "port": proto.port, "public": True, "setting": setting})
    return out


def permed_accounts(grant: AssetGrant, version: ServerVersion) -> list[dict[str, Any]]:
    """Real accounts (id == alias) then virtual ones with a fresh id on every call."""
    out: list[dict[str, Any]] = []
    acts = actions(grant.actions)
    for account in grant.accounts:
        out.append(
            {
                "id": account.id,
                "alias": account.id,
                "name": account.name,
                "username": account.username,
                "has_username": True,
                "has_secret": True,
                "secret_type": account.secret_type,
                "actions": acts,
            }
        )
    names = {"@INPUT": "Manual input", "@USER": "Dynamic user", "@ANON": "Anonymous account"}
    for alias in grant.virtual:
        out.append(
            {
                "id": str(uuid.uuid4()),
                "alias": alias,
                "name": names[alias],
                "username": alias if alias != "@ANON" else "",
                "has_username": alias != "@INPUT",
                "has_secret": False,
                "secret_type": "password",
                "actions": acts,
            }
        )
    if version.has_date_expired_on_accounts:
        for item in out:
            item["date_expired"] = format_datetime(grant.date_expired)
    return out


def node_item(node: Node, assets_amount: int) -> dict[str, Any]:
    """An entry of users/self/nodes/."""
    return {
        "id": node.id,
        "name": node.value,
        "key": node.key,
        "value": node.value,
        "full_value": node.full_value,
        "org_id": node.org_id,
        "assets_amount": assets_amount,
    }


def tree_node(node: Node, assets_amount: int) -> dict[str, Any]:
    """A zTree node for a node."""
    title = f"{node.value} ({assets_amount})"
    return {
        "id": node.key,
        "name": title,
        "title": title,
        "pId": node.parent_key,
        "isParent": True,
        "open": True,
        "meta": {"type": "node", "data": {"id": node.id, "key": node.key, "value": node.value}},
    }


def tree_asset(asset: Asset, parent_key: str, org_name: str) -> dict[str, Any]:
    """A zTree node for an asset."""
    return {
        "id": asset.id,
        "name": asset.name,
        "title": asset.address,
        "pId": parent_key,
        "isParent": False,
        "open": False,
        "iconSkin": asset.platform_type,
        "chkDisabled": False,
        "meta": {
            "type": "asset",
            "data": {
                "platform_type": asset.platform_type,
                "org_name": org_name,
                "sftp": any(p.name == "sftp" for p in asset.protocols),
                "name": asset.name,
                "address": asset.address,
            },
        },
    }
