"""Logins that end somewhere other than a session: the pages a CLI must explain, not follow.

A v4.10.16 server sends a user who must change their password to
``/core/common/flash-message/?code=…`` (the page links to ``/core/auth/password/reset/…``) and
a user forced to use MFA without an authenticator to ``/core/auth/profile/otp/enable/start/``;
neither session is logged in (sheet 3.6). The link is taken from the page's ``href``s, never
from its (localised) text.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import AuthFailed

FLASH = "/core/common/flash-message/"
OTP_ENABLE = "/core/auth/profile/otp/enable/"
RESET = "/core/auth/password/reset/"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            del self._in[self._in.index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] in ("h1", "h2", "h3", "p") and data.strip():
            self.text.append(" ".join(data.split()))


def _page(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


async def explain(conn: Connection, username: str, path: str, location: str) -> AuthFailed | None:
    """The AuthFailed for a login that ended at ``path`` (None: not one of these pages)."""
    base = conn.config.url
    if path == FLASH:
        response = await conn.request(
            "GET", location.removeprefix(base), auth="cookie", allow=(302, 404)
        )
        page = _page(response.text if response.status_code == 200 else "")
        resets = [h for h in page.hrefs if RESET in h]
        said = ": ".join(page.text[:2]) or "a message page"
        if resets:
            link = urljoin(base + "/", resets[0])
            return AuthFailed(
                "password_change_required",
                f"JumpServer requires a password change for `{username}` before it lets you "
                f"log in (it says: {said}). Set a new password at {link} (the link is valid for "
                "a short time; or ask an administrator), then run `jsctl login` again",
            )
        return AuthFailed(
            "flash_message",
            f"JumpServer ended the login on a message page instead of logging you in "
            f"(it says: {said}; {location}); open it in a browser, then run `jsctl login` again",
        )
    if path.startswith(OTP_ENABLE):
        return AuthFailed(
            "mfa_setup_required",
            f"JumpServer requires MFA for `{username}`, but no authenticator is bound yet: set "
            f"it up in a browser at {base}{OTP_ENABLE}start/ (log in there), then run "
            "`jsctl login` again",
        )
    return None
