"""The HTML pages of the login flow (structure mimics the real pages' ids, names and classes)."""

from __future__ import annotations

from html import escape

_HEAD = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>{title} - JumpServer sandbox</title>"
    '<script src="/static/js/jumpserver.js"></script></head><body>\n'
)
_TAIL = "</body></html>\n"


def page(title: str, body: str) -> str:
    """A complete HTML document."""
    return _HEAD.format(title=escape(title)) + body + _TAIL


def login_page(
    *,
    csrf_token: str,
    error: str | None,
    captcha_key: str | None,
    captcha_error: str | None = None,
    username: str = "",
) -> str:
    """The login form; shows the captcha block when ``captcha_key`` is set."""
    parts = [
        '<div class="login-content">',
        '<form id="login-form" action="" method="post" role="form" novalidate="novalidate">',
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">',
    ]
    if error:
        parts.append(f'<p class="help-block red-fonts">{escape(error)}</p>')
    parts += [
        '<div class="form-group">',
        f'<input type="text" class="form-control" name="username" placeholder="Username" '
        f'required value="{escape(username)}">',
        "</div>",
        '<div class="form-group">',
        '<input type="password" class="form-control" id="password" placeholder="Password" '
        "required>",
        '<input id="password-hidden" type="text" style="display:none" name="password">',
        "</div>",
    ]
    if captcha_key:
        parts += [
            '<div class="form-group captcha-field">',
            f'<img src="/core/auth/captcha/image/{captcha_key}/" alt="captcha" class="captcha" />',
            f'<input type="hidden" name="captcha_0" value="{captcha_key}" required '
            'id="id_captcha_0">',
            '<input type="text" name="captcha_1" class="form-control" required id="id_captcha_1" '
            'autocomplete="off">',
        ]
        if captcha_error:
            parts.append(f'<div class="help-block">{escape(captcha_error)}</div>')
        parts.append("</div>")
    css = "" if captcha_key else " no-captcha-challenge"
    parts += [
        f'<div class="form-group auto-login{css}">',
        '<label><input type="checkbox" name="auto_login" value="on"> Remember me</label>',
        "</div>",
        '<button type="submit" class="btn btn-primary block full-width m-b">Sign in</button>',
        "</form></div>",
    ]
    return page("Login", "\n".join(parts) + "\n")


def mfa_page(*, csrf_token: str, error: str | None, mfa_types: list[tuple[str, str, bool]]) -> str:
    """The MFA step: a select of (value, label, disabled) types and a code field."""
    options = "".join(
        f'<option value="{value}"{" disabled" if disabled else ""}>{escape(label)}</option>'
        for value, label, disabled in mfa_types
    )
    parts = [
        '<form class="m-t" role="form" method="post" action="">',
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">',
    ]
    if error:
        parts.append(f'<p class="red-fonts">{escape(error)}</p>')
    parts += [
        '<select id="mfa-select" name="mfa_type" class="form-control select-con">'
        f"{options}</select>",
        '<div class="form-group">',
        '<input type="text" class="form-control input-style" name="code" required '
        'placeholder="Six-digit code" autofocus="autofocus">',
        "</div>",
        '<button id="submit_button" type="submit" class="btn btn-primary block full-width m-b">'
        "Next</button>",
        "</form>",
    ]
    return page("MFA", "\n".join(parts) + "\n")


def message_page(title: str, message: str) -> str:
    """A simple page with one message (logout, home)."""
    return page(title, f'<div class="message"><h2>{escape(message)}</h2></div>\n')


def jumpserver_js(separator: str, with_encrypt: bool) -> str:
    """A small stand-in for the site's JavaScript that names the password separator."""
    lines = ["// JumpServer sandbox client helpers"]
    if with_encrypt:
        lines += [
            "function encryptPassword(password) {",
            "  // RSA(PKCS#1 v1.5) of a random AES key + AES-128-ECB(password), joined by",
            f'  var separator = "{separator}";',
            "  return separator;",
            "}",
        ]
    return "\n".join(lines) + "\n"
