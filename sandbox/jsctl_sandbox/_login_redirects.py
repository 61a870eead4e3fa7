"""Logins that end on another page: "change your password" flash messages, MFA not set up.

A v4.10.16 server answers the login POST of a user who must change their password with a 302
to ``/core/common/flash-message/?code=<12 chars>`` (the session is *not* logged in) and that
page links to ``/core/auth/password/reset/?token=…``; a user forced to use MFA who has not
bound an authenticator is sent by the guard to ``/core/auth/profile/otp/enable/start/``
(sheet 3.6). The flash message lives 60 s, as in ``FlashMessageUtil``.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from html import escape

from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from . import _templates as tpl
from ._web import Ctx, html_view

FLASH_URL = "/core/common/flash-message/"
RESET_URL = "/core/auth/password/reset/"
OTP_ENABLE_URL = "/core/auth/profile/otp/enable/start/"
FLASH_TTL_S = 60.0
_CODE_CHARS = string.ascii_letters + string.digits


@dataclass
class Flash:
    """One flash message: what the page says and where its button leads."""

    title: str
    message: str
    redirect_url: str
    expires_at: float


def password_change_flash(ctx: Ctx) -> str:
    """Store the "change your password" message; returns the URL to redirect to."""
    code = "".join(secrets.choice(_CODE_CHARS) for _ in range(12))
    token = secrets.token_urlsafe(24)
    ctx.state.flash_messages[code] = Flash(
        title="Please change your password",
        message="You should to change your password before login",
        redirect_url=f"{RESET_URL}?token={token}",
        expires_at=ctx.now + FLASH_TTL_S,
    )
    return f"{FLASH_URL}?code={code}"


async def flash_page(ctx: Ctx) -> Response:
    """GET the flash page; an unknown or expired code shows an empty message."""
    found = ctx.state.flash_messages.get(ctx.query.get("code", ""))
    if found is None or found.expires_at <= ctx.now:
        return HTMLResponse(tpl.message_page("Message", ""))
    body = (
        f'<div class="message"><h2>{escape(found.title)}</h2>'
        f"<p>{escape(found.message)}</p>"
        f'<a class="btn btn-primary" href="{escape(found.redirect_url)}">Confirm</a></div>\n'
    )
    return HTMLResponse(tpl.page(found.title, body))


async def password_reset_page(ctx: Ctx) -> Response:
    """The reset form a flash message links to (a placeholder: jsctl never fills it in)."""
    return HTMLResponse(tpl.message_page("Reset password", "Set a new password in a browser"))


async def otp_enable_start(ctx: Ctx) -> Response:
    """Where a user who must set up MFA lands (a placeholder for the binding wizard)."""
    return HTMLResponse(tpl.message_page("Enable MFA", "Bind an authenticator app first"))


routes = [
    Route(FLASH_URL, html_view(flash_page)),
    Route(RESET_URL, html_view(password_reset_page)),
    Route(OTP_ENABLE_URL, html_view(otp_enable_start)),
]
