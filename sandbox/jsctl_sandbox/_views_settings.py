"""The core's public settings (``apps/settings/api/public.py``, same on v3.10 … v4.10.19).

``GET /api/v1/settings/public/open/`` answers anyone with four fields. ``GET
/api/v1/settings/public/`` answers any valid logged-in user (``IsValidUserOrConnectionToken``:
cookie, access key or bearer token, or an anonymous ``?token=<connection token>``) with every
field of ``PrivateSettingSerializer``, among them ``SECURITY_MAX_IDLE_TIME``: the minutes of
quiet after which KoKo ends a session (the core hands KoKo the same setting in its terminal
config). Values are the defaults of ``jumpserver/conf.py`` v4.10.16; the idle limit follows the
sandbox KoKo's own (``idle_timeout_s``), so the core and KoKo never disagree.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ._api import api_route
from ._clock import format_datetime
from ._restauth import not_authenticated
from ._web import Ctx, detail_error

__all__ = ["routes"]

_DEFAULT_ORG = "00000000-0000-0000-0000-000000000002"


def _open_settings() -> dict[str, Any]:
    return {
        "XPACK_ENABLED": False,
        "INTERFACE": {
            "login_title": "JumpServer Open Source Bastion Host",
            "theme": "classic_green",
            "logo_index": "/static/img/logo_text_white.png",
            "logo_logout": "/static/img/logo.png",
            "favicon": "/static/img/facio.ico",
            "login_image": "/static/img/login_image.png",
            "footer_content": "",
        },
        "LANGUAGES": [
            {"name": "English", "code": "en", "other_codes": ["en"]},
            {"name": "中文(简体)", "code": "zh-hans", "other_codes": ["zh", "zh-cn"]},
        ],
        "VENDOR": "FIT2CLOUD",
    }


def _private_settings(idle_minutes: int) -> dict[str, Any]:
    return {
        **_open_settings(),
        "WINDOWS_SKIP_ALL_MANUAL_PASSWORD": False,
        "OLD_PASSWORD_HISTORY_LIMIT_COUNT": 5,
        "TICKET_AUTHORIZE_DEFAULT_TIME": 7,
        "TICKET_AUTHORIZE_DEFAULT_TIME_UNIT": "day",
        "AUTH_LDAP_SYNC_ORG_IDS": [_DEFAULT_ORG],
        "SECURITY_MAX_IDLE_TIME": idle_minutes,
        "SECURITY_ACCOUNT_SECRET_READ": True,
        "SECURITY_VIEW_AUTH_NEED_MFA": True,
        "SECURITY_MFA_AUTH": 0,
        "SECURITY_MFA_VERIFY_TTL": 3600,
        "SECURITY_COMMAND_EXECUTION": False,
        "SECURITY_COMMAND_BLACKLIST": ["reboot", "shutdown", "poweroff", "halt", "dd", "half"],
        "SECURITY_PASSWORD_EXPIRATION_TIME": 9999,
        "SECURITY_EXPIRED_TOKEN_RECORD_KEEP_DAYS": 180,
        "SECURITY_LUNA_REMEMBER_AUTH": True,
        "SECURITY_WATERMARK_ENABLED": True,
        "SECURITY_WATERMARK_SESSION_CONTENT": "${name}(${userName})\n${assetName}",
        "SECURITY_WATERMARK_CONSOLE_CONTENT": "${userName}(${name})",
        "SECURITY_WATERMARK_COLOR": "rgba(184, 184, 184, 0.8)",
        "SECURITY_WATERMARK_FONT_SIZE": 13,
        "SECURITY_WATERMARK_HEIGHT": 200,
        "SECURITY_WATERMARK_WIDTH": 200,
        "SECURITY_WATERMARK_ROTATE": 45,
        "SESSION_EXPIRE_AT_BROWSER_CLOSE": False,
        "VIEW_ASSET_ONLINE_SESSION_INFO": True,
        "PASSWORD_RULE": {
            "SECURITY_PASSWORD_MIN_LENGTH": 6,
            "SECURITY_ADMIN_USER_PASSWORD_MIN_LENGTH": 6,
            "SECURITY_PASSWORD_UPPER_CASE": False,
            "SECURITY_PASSWORD_LOWER_CASE": False,
            "SECURITY_PASSWORD_NUMBER": False,
            "SECURITY_PASSWORD_SPECIAL_CHAR": False,
        },
        "SECURITY_SESSION_SHARE": True,
        "XPACK_LICENSE_IS_VALID": False,
        "XPACK_LICENSE_EDITION_ULTIMATE": False,
        "FACE_RECOGNITION_ENABLED": False,
        "XPACK_LICENSE_INFO": {},
        "HELP_DOCUMENT_URL": "https://jumpserver.com/docs",
        "HELP_SUPPORT_URL": "https://www.lxware.hk/pages/about",
        "AUTH_PASSKEY": False,
        "AUTH_WECOM": False,
        "AUTH_DINGTALK": False,
        "AUTH_FEISHU": False,
        "AUTH_LARK": False,
        "AUTH_SLACK": False,
        "AUTH_TEMP_TOKEN": False,
        "TERMINAL_RAZOR_ENABLED": True,
        "TERMINAL_MAGNUS_ENABLED": True,
        "TERMINAL_KOKO_SSH_ENABLED": True,
        "TERMINAL_OMNIDB_ENABLED": True,
        "ANNOUNCEMENT_ENABLED": True,
        "ANNOUNCEMENT": {},
        "TICKETS_ENABLED": True,
        "TICKETS_DIRECT_APPROVE": False,
        "CONNECTION_TOKEN_REUSABLE": False,
        "CACHE_LOGIN_PASSWORD_ENABLED": False,
        "VAULT_ENABLED": False,
        "VIRTUAL_APP_ENABLED": False,
        "CHAT_AI_ENABLED": False,
        "CHAT_AI_METHOD": "api",
        "CHAT_AI_EMBED_URL": "",
        "CHAT_AI_TYPE": "gpt",
        "GPT_MODEL": "gpt-4o-mini",
        "FILE_UPLOAD_SIZE_LIMIT_MB": 200,
        "FTP_FILE_MAX_STORE": 0,
        "LOKI_LOG_ENABLED": False,
        "TOOL_USER_ENABLED": False,
        "DEFAULT_EXPIRED_YEARS": 70,
        "USER_DEFAULT_EXPIRED_DAYS": 25550,
        "ASSET_PERMISSION_DEFAULT_EXPIRED_DAYS": 25550,
        "PRIVACY_MODE": False,
        "CHANGE_SECRET_AFTER_SESSION_END": False,
        "JDMC_ENABLED": False,
        "KOTL_ENABLED": False,
        "FLOWER_ENABLED": False,
        "REMOTE_APP_STORE_URL": "https://apps.fit2cloud.com/jumpserver",
        "AUTH_UKEY": False,
    }


async def open_public(ctx: Ctx) -> Response:
    """GET settings/public/open/: anyone."""
    return JSONResponse(_open_settings())


async def public(ctx: Ctx) -> Response:
    """GET settings/public/: a valid user, or a valid connection token in ``?token=``."""
    if ctx.user is None:
        token = ctx.state.connection_tokens.get(ctx.query.get("token", ""))
        if token is None:
            raise not_authenticated(ctx)
        if token.expired(ctx.now):
            raise detail_error(
                403,
                f"Connection token expired at: {format_datetime(token.date_expired)}",
                "permission_denied",
            )
    # The setting is whole minutes (the serializer's IntegerField, at least 1).
    minutes = max(1, round(ctx.state.koko_settings.idle_timeout_s / 60))
    return JSONResponse(_private_settings(minutes))


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    return [
        api_route("/api/v1/settings/public/", {"GET": public}, login_required=False),
        api_route("/api/v1/settings/public/open/", {"GET": open_public}, login_required=False),
    ]
