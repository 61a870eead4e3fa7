"""The web form login (sheet 3.1–3.6) as a state machine the daemon drives step by step.

``start()`` and ``answer(**fields)`` return the next :mod:`~.login_steps` step or raise
:class:`AuthFailed`. After an ``AuthFailed`` whose ``retry`` is set, the caller may answer
that step again (wrong password, wrong captcha or MFA code); otherwise call ``start()``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from jsctl_daemon.jumpserver._html import LoginPage, parse_login_page
from jsctl_daemon.jumpserver._login_outcomes import explain
from jsctl_daemon.jumpserver._responses import describe, parse_json
from jsctl_daemon.jumpserver.access_keys import ConfirmSecret, create_access_key
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import (
    AuthFailed,
    BadResponse,
    InvalidRequest,
    LoginRequired,
    NotAJumpServer,
)
from jsctl_daemon.jumpserver.login_steps import (
    LoggedIn,
    NeedCaptcha,
    NeedMfaChoice,
    NeedMfaCode,
    NeedPassword,
    Step,
    WaitingReview,
)
from jsctl_daemon.jumpserver.password_crypto import (
    decode_public_key_cookie,
    encrypt_password,
    separator_from_script,
)
from jsctl_daemon.jumpserver.signature import AccessKey

__all__ = ["WebLogin"]

LOGIN = "/core/auth/login/"
GUARD = "/core/auth/login/guard/"
MFA = "/core/auth/login/mfa/"
WAIT_CONFIRM = "/core/auth/login/wait-confirm/"
SEND_CODE = "/api/v1/authentication/mfa/send-code/"
REVIEW_STATUS = "/api/v1/authentication/login-confirm-ticket/status/"
PROFILE = "/api/v1/users/profile/"
_CODE_MFA_TYPES = frozenset({"otp", "sms", "email", "otp_radius", "mfa_custom"})
_SENT_CODE_TYPES = frozenset({"sms", "email"})
_MAX_REDIRECTS = 8


class WebLogin:
    """One login attempt for ``username``; it empties ``conn``'s cookie jar when it starts.

    Give it a dedicated :class:`Connection`; on :class:`LoggedIn` that connection holds the
    new web session (persist ``conn.export_cookies()``).
    """

    def __init__(self, conn: Connection, username: str) -> None:
        self.conn = conn
        self.username = username
        self._page = LoginPage()
        self._password: str | None = None
        self._separator: str | None = None
        self._mfa_type: str | None = None
        self._confirm: ConfirmSecret | None = None
        self._expected: type[Step] | None = None

    # -- public steps ------------------------------------------------------------------------

    async def start(self) -> Step:
        """Open the login page in a fresh cookie jar."""
        self.conn.reset_cookies()
        self._password = None
        self._confirm = None
        self._page = await self._login_page()
        return self._expect(NeedPassword())

    async def answer(
        self,
        *,
        password: str | None = None,
        captcha: str | None = None,
        mfa_type: str | None = None,
        code: str | None = None,
    ) -> Step:
        """Give what the last step asked for; returns the next step."""
        expected = self._expected
        if expected is NeedPassword and password is not None:
            self._password = password
            if self._page.has_captcha:
                return await self._captcha_step(None)
            return await self._submit_password(None)
        if expected is NeedCaptcha and captcha is not None:
            return await self._submit_password(captcha.strip())
        if expected is NeedMfaChoice and mfa_type is not None:
            return await self._choose_mfa(mfa_type)
        if expected is NeedMfaCode and code is not None:
            return await self._submit_mfa_code(code.strip())
        if expected is WaitingReview:
            return await self._poll_review()
        wanted = expected.__name__ if expected else "start()"
        raise ValueError(f"the login is waiting for {wanted}, not for this answer")

    async def cancel(self) -> None:
        """Abandon the login (withdraws a pending review ticket)."""
        if self._expected is WaitingReview:
            await self.conn.request("DELETE", REVIEW_STATUS, auth="cookie", allow=(400, 404))
        self._forget_secrets()
        self._expected = None

    async def create_access_key(self) -> AccessKey:
        """After LoggedIn: create a durable access key, confirming with this login's secret."""
        if self._expected is not LoggedIn or self._confirm is None:
            raise ValueError("create_access_key() needs a finished login")
        try:
            return await create_access_key(self.conn, self._confirm)
        finally:
            self._forget_secrets()

    # -- steps -------------------------------------------------------------------------------

    def _expect(self, step: Step) -> Step:
        self._expected = type(step)
        return step

    def _forget_secrets(self) -> None:
        self._password = None
        self._confirm = None

    async def _login_page(self) -> LoginPage:
        response = await self.conn.request(
            "GET", LOGIN, params={"admin": "1"}, auth="cookie", allow=(301, 302, 404)
        )
        if response.status_code in (301, 302):
            where = response.headers.get("location", "")
            raise AuthFailed(
                "redirected",
                f"the login page redirects to {where or 'nowhere'} (single sign-on?); "
                "jsctl needs the local login form",
            )
        page = parse_login_page(response.text)
        if response.status_code != 200 or not page.is_login_form:
            raise NotAJumpServer(self.conn.config.url, f"no login form at {LOGIN}")
        return page

    async def _captcha_step(self, error: str | None) -> Step:
        source = self._page.captcha_image or ""
        response = await self.conn.request("GET", urlsplit(source).path, auth="cookie")
        if not response.content.startswith(b"\x89PNG"):
            raise BadResponse(describe(response), "the captcha image is not a PNG")
        key = self._page.inputs.get("captcha_0", "")
        return self._expect(NeedCaptcha(image_png=response.content, key=key, error=error))

    async def _encrypted(self, password: str) -> str:
        prefix = self.conn.cookie_prefix
        key_cookie = self.conn.cookie(f"{prefix}public_key") or self.conn.cookie("jms_public_key")
        gm_site = "1" in (self.conn.cookie(f"{prefix}gm_ssl"), self.conn.cookie("jms_gm_ssl"))
        if not key_cookie or gm_site:
            return password  # the server accepts plaintext; TLS protects it
        if self._separator is None:
            script = await self.conn.request(
                "GET", "/static/js/session-encrypt.js", auth="cookie", allow=range(300, 500)
            )
            self._separator = separator_from_script(script.status_code, script.text)
        try:
            return encrypt_password(password, decode_public_key_cookie(key_cookie), self._separator)
        except ValueError:
            return password

    async def _submit_password(self, captcha: str | None) -> Step:
        if self._password is None:
            raise ValueError("no password to submit")
        form = {
            "csrfmiddlewaretoken": self.conn.csrf_token
            or self._page.inputs.get("csrfmiddlewaretoken", ""),
            "username": self.username,
            "password": await self._encrypted(self._password),
            "auto_login": "on",
        }
        if captcha is not None:
            form["captcha_0"] = self._page.inputs.get("captcha_0", "")
            form["captcha_1"] = captcha
        response = await self._post_form(LOGIN, form)
        if response.status_code == 302:
            self._confirm = ConfirmSecret(password=self._password)
            return await self._follow(response)
        page = parse_login_page(response.text)
        if not page.is_login_form:
            raise BadResponse(describe(response), "the login answer has no login form")
        self._page = page
        if page.form_errors:
            self._expect(NeedPassword())
            raise AuthFailed("login_failed", page.form_errors[0]).with_retry(NeedPassword())
        if page.has_captcha:  # wrong or missing captcha: the password was not checked yet
            return await self._captcha_step(page.field_errors[0] if page.field_errors else None)
        raise AuthFailed("login_failed", "; ".join(page.errors) or "the form was refused")

    async def _post_form(self, path: str, form: dict[str, str]) -> httpx.Response:
        referer = self.conn.config.url + path
        return await self.conn.request(
            "POST", path, data=form, headers={"Referer": referer}, auth="cookie", allow=(200, 302)
        )

    async def _follow(self, response: httpx.Response) -> Step:
        """Walk the guard's redirects until a page needs the user or the login is done."""
        for _ in range(_MAX_REDIRECTS):
            location = urljoin(self.conn.config.url + "/", response.headers.get("location", ""))
            parts = urlsplit(location)
            path = parts.path.removeprefix(self.conn.config.base_path)
            query = parse_qs(parts.query)
            if f"{parts.scheme}://{parts.netloc}" != self._origin:
                raise AuthFailed("redirected", f"JumpServer sent the login to {location}")
            if "csrf_failure" in query:
                raise AuthFailed(
                    "csrf_failure",
                    "JumpServer rejected the form's CSRF check; make sure the configured URL "
                    "is the address the site itself uses",
                )
            if path == GUARD:
                response = await self.conn.request(
                    "GET", location.removeprefix(self.conn.config.url), auth="cookie",
                    allow=(302,),
                )  # fmt: skip
                continue
            if path == MFA:
                return await self._mfa_page()
            if path == WAIT_CONFIRM:
                return await self._poll_review()
            if path == LOGIN:
                why = "expired" if "session_empty" in query.get("_", []) else "was lost"
                raise AuthFailed("session_expired", f"the half-finished login {why}; start again")
            outcome = await explain(self.conn, self.username, path, location)
            if outcome is not None:
                raise outcome
            if path.startswith("/core/auth/"):
                raise AuthFailed(
                    "action_required",
                    f"JumpServer wants you to do something in a web browser first ({path}: "
                    "e.g. change an expired password or set up MFA); do that, then retry",
                )
            return await self._logged_in(location)
        raise BadResponse(GUARD, "too many redirects during login")

    @property
    def _origin(self) -> str:
        return f"{self.conn.config.scheme}://{self.conn.config.netloc}"

    async def _mfa_page(self) -> Step:
        response = await self.conn.request("GET", MFA, auth="cookie", allow=(302,))
        if response.status_code == 302:
            return await self._follow(response)
        page = parse_login_page(response.text)
        choices = tuple(o.value for o in page.mfa_options if not o.disabled and not o.needs_bind)
        if not choices:
            raise AuthFailed(
                "mfa_unavailable", "no usable MFA method is set up; finish MFA setup in a browser"
            )
        if len(choices) == 1:
            return await self._choose_mfa(choices[0])
        return self._expect(NeedMfaChoice(choices=choices))

    async def _choose_mfa(self, mfa_type: str) -> Step:
        if mfa_type not in _CODE_MFA_TYPES:
            raise AuthFailed(
                "mfa_unsupported", f"MFA type `{mfa_type}` only works in a web browser"
            )
        if mfa_type in _SENT_CODE_TYPES:
            try:
                await self.conn.send_json(
                    "POST", SEND_CODE, {"type": mfa_type, "username": self.username},
                    auth="cookie",
                )  # fmt: skip
            except InvalidRequest as exc:
                raise AuthFailed("mfa_send_failed", exc.detail) from None
        self._mfa_type = mfa_type
        return self._expect(NeedMfaCode(mfa_type=mfa_type))

    async def _submit_mfa_code(self, code: str) -> Step:
        mfa_type = self._mfa_type or "otp"
        form = {
            "csrfmiddlewaretoken": self.conn.csrf_token or "",
            "mfa_type": mfa_type,
            "code": code,
        }
        response = await self._post_form(MFA, form)
        if response.status_code == 302:
            self._confirm = ConfirmSecret(mfa_type=mfa_type, code=code)
            return await self._follow(response)
        page = parse_login_page(response.text)
        message = page.errors[0] if page.errors else "the MFA code was refused"
        raise AuthFailed("mfa_failed", message).with_retry(NeedMfaCode(mfa_type=mfa_type))

    async def _poll_review(self) -> Step:
        status = parse_json(await self.conn.request("GET", REVIEW_STATUS, auth="cookie"))
        body: dict[str, Any] = status if isinstance(status, dict) else {}
        error = body.get("error")
        data = body.get("data")
        if not isinstance(data, dict):
            data = {}
        if error == "login_confirm_wait":
            return self._expect(WaitingReview(ticket_id=str(data.get("ticket_id", ""))))
        if error == "login_confirm_error":  # rejected, closed, or no ticket (cancelled)
            raise AuthFailed(
                str(error),
                f"the login review ended without approval ({body.get('msg') or error}); "
                "ask an administrator, then run `jsctl login` again",
            )
        if error:
            raise AuthFailed(str(error), str(body.get("msg") or error))
        response = await self.conn.request("GET", GUARD, auth="cookie", allow=(302,))
        return await self._follow(response)

    async def _logged_in(self, location: str) -> Step:
        if self.conn.cookie(self.conn.session_cookie_name) is None:
            raise BadResponse(GUARD, "the login finished without a session cookie")
        try:
            response = await self.conn.request("GET", PROFILE, auth="cookie")
        except LoginRequired:  # not "expired": this login never produced a session
            raise AuthFailed(
                "not_logged_in",
                f"JumpServer sent the login to {location} without logging you in; open that "
                "page in a browser to see what it wants, then run `jsctl login` again",
            ) from None
        profile = parse_json(response)
        if not isinstance(profile, dict):
            raise BadResponse(f"GET {PROFILE}", "the profile is not an object")
        self._password = None
        return self._expect(LoggedIn(username=str(profile.get("username", "")), profile=profile))
