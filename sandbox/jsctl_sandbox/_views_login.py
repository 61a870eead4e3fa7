"""The HTML web login: form, captcha, guard redirects, MFA page, logout (sheet 3.1-3.5)."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import _login_review as review
from . import _templates as tpl
from ._cookies import set_cookie_header
from ._csrf import CsrfFailure, mask, new_secret
from ._login_core import LoginRejected, half_login_user, mfa_passed, start_half_login
from ._login_redirects import OTP_ENABLE_URL, password_change_flash
from ._web import Ctx, HtmlNotFound, html_view

LOGIN_URL = "/core/auth/login/"
GUARD_URL = "/core/auth/login/guard/"
MFA_URL = "/core/auth/login/mfa/"
WAIT_CONFIRM_URL = "/core/auth/login/wait-confirm/"
CSRF_FAILURE_URL = "/core/auth/login/?csrf_failure=1&admin=1"


def redirect(location: str) -> Response:
    """A bare 302 (Django's HttpResponseRedirect: empty text/html body)."""
    response = RedirectResponse(location, status_code=302)
    response.headers["content-type"] = "text/html; charset=utf-8"
    return response


def safe_next(ctx: Ctx) -> str:
    """The `next` target when it stays on this site, else '/'."""
    target = ctx.query.get("next", "")
    parts = urlsplit(target)
    if not target or parts.scheme or parts.netloc or not target.startswith("/"):
        return "/"
    return target


def _with_next(ctx: Ctx, url: str) -> str:
    target = ctx.query.get("next")
    if not target:
        return url
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}{urlencode({'next': target})}"


def _is_logged_in(ctx: Ctx) -> bool:
    return (
        bool(ctx.session.get("logged_in"))
        and ctx.session.get("user_id") in ctx.state.directory.users
    )


def _form_token(ctx: Ctx, *, rotate: bool = False) -> str:
    """(Re)issue the CSRF cookie and return a masked token for the form."""
    secret = ctx.cookies.get(ctx.state.csrf_cookie)
    if rotate or not secret:
        secret = new_secret()
    ctx.new_csrf = secret
    return mask(secret)


async def _form_csrf_ok(ctx: Ctx, form: dict[str, str]) -> bool:
    submitted = form.get("csrfmiddlewaretoken") or ctx.request.headers.get("x-csrftoken")
    try:
        ctx.check_csrf(submitted, "POST")
    except CsrfFailure:
        return False
    return True


def _render_login(
    ctx: Ctx,
    *,
    error: str | None = None,
    captcha_error: str | None = None,
    username: str = "",
    rotate: bool = False,
) -> Response:
    captcha = ctx.state.captchas.new() if ctx.state.captcha_required(ctx.client_ip) else None
    html = tpl.login_page(
        csrf_token=_form_token(ctx, rotate=rotate),
        error=error,
        captcha_key=captcha,
        captcha_error=captcha_error,
        username=username,
    )
    return HTMLResponse(html)


async def login_get(ctx: Ctx) -> Response:
    """GET the login page (or bounce a logged-in jar to `next`)."""
    if _is_logged_in(ctx):
        return redirect(safe_next(ctx))
    ctx.session.set("testcookie", "worked")
    return _render_login(ctx)


async def login_post(ctx: Ctx) -> Response:
    """POST the login form: CSRF, test cookie, captcha, password (plain or encrypted)."""
    form = {k: str(v) for k, v in (await ctx.data()).items()}
    if not await _form_csrf_ok(ctx, form):
        return redirect(CSRF_FAILURE_URL)
    username = form.get("username", "")
    if ctx.session.get("testcookie") != "worked":
        ctx.session.set("testcookie", "worked")
        return _render_login(ctx, error="Login timeout, please try again.", username=username)
    state = ctx.state
    if state.captcha_required(ctx.client_ip) and not state.captchas.check(
        form.get("captcha_0", ""), form.get("captcha_1", "")
    ):
        return _render_login(ctx, captcha_error="Invalid CAPTCHA", username=username, rotate=True)
    password = state.password_key.decrypt_field(
        form.get("password", ""), state.version.password_separator
    )
    try:
        user = state.guard.check_password(username, password)
    except LoginRejected as exc:
        state.counters["login_failures"] += 1
        state.mark_captcha(ctx.client_ip)
        return _render_login(ctx, error=exc.msg, username=username, rotate=True)
    if user.need_update_password:  # the session stays anonymous (sheet 3.6)
        return redirect(password_change_flash(ctx))
    start_half_login(ctx.session, user, ctx.now)
    review.mark_if_reviewed(state, ctx.session, user)
    return redirect(_with_next(ctx, GUARD_URL))


async def guard(ctx: Ctx) -> Response:
    """The login guard: route to MFA, to the review wait, back to login, or finish."""
    if _is_logged_in(ctx):
        return redirect(safe_next(ctx))
    user = half_login_user(ctx.state, ctx.session)
    if user is None:
        expired = ctx.session.get("auth_user_id") or ctx.query.get("_") == "session_empty"
        return redirect(LOGIN_URL + ("?_=session_empty" if expired else ""))
    if user.mfa_unset:
        return redirect(OTP_ENABLE_URL)
    if not mfa_passed(ctx.session, user):
        return redirect(_with_next(ctx, MFA_URL))
    if review.review_if_needed(ctx.state, ctx.session, user) is not None:
        return redirect(_with_next(ctx, WAIT_CONFIRM_URL))
    session = ctx.session
    session.cycle_key()
    review.forget(session)
    for name in ("auth_user_id", "auth_password_at", "testcookie"):
        session.pop(name)
    session.set("user_id", user.id)
    session.set("logged_in", True)
    session.age = ctx.state.options.session_age
    user.last_login = ctx.now
    ctx.state.counters["web_logins"] += 1
    ctx.new_csrf = new_secret()
    ctx.extra_cookies.append(
        set_cookie_header("django_language", "en", now=ctx.now, max_age=365 * 86400)
    )
    return redirect(safe_next(ctx))


def _mfa_page(ctx: Ctx, error: str | None = None) -> Response:
    types = [("otp", "MFA", False)]
    return HTMLResponse(tpl.mfa_page(csrf_token=_form_token(ctx), error=error, mfa_types=types))


async def mfa_get(ctx: Ctx) -> Response:
    """The MFA page of a half-logged-in session."""
    if half_login_user(ctx.state, ctx.session) is None:
        return redirect(GUARD_URL + "?_=session_empty")
    return _mfa_page(ctx)


async def mfa_post(ctx: Ctx) -> Response:
    """Check the MFA code posted from the MFA page."""
    form = {k: str(v) for k, v in (await ctx.data()).items()}
    if not await _form_csrf_ok(ctx, form):
        return redirect(CSRF_FAILURE_URL)
    user = half_login_user(ctx.state, ctx.session)
    if user is None:
        return redirect(GUARD_URL + "?_=session_empty")
    try:
        ctx.state.guard.check_mfa(user, form.get("mfa_type", "otp"), form.get("code", ""))
    except LoginRejected as exc:
        return _mfa_page(ctx, exc.msg)
    ctx.session.set("auth_mfa", user.username)
    return redirect(_with_next(ctx, GUARD_URL + "?_=mfa_ok"))


async def wait_confirm(ctx: Ctx) -> Response:
    """The page a browser shows while an administrator reviews the login (it polls JSON)."""
    return HTMLResponse(
        tpl.message_page("Login confirm", review.wait_page_message(ctx.state, ctx.session))
    )


async def logout(ctx: Ctx) -> Response:
    """Log out: the session is flushed and a fresh anonymous one issued."""
    ctx.session.flush()
    ctx.session.set("anonymous", True)
    return HTMLResponse(tpl.message_page("Logout", "Logout success"))


async def captcha_image(ctx: Ctx) -> Response:
    """The PNG of a captcha challenge."""
    png = ctx.state.captchas.render_png(ctx.request.path_params["key"])
    if png is None:
        raise HtmlNotFound
    return Response(png, media_type="image/png")


async def captcha_refresh(ctx: Ctx) -> Response:
    """A new challenge for AJAX callers; 404 HTML for anyone else."""
    if ctx.request.headers.get("x-requested-with") != "XMLHttpRequest":
        raise HtmlNotFound
    key = ctx.state.captchas.new()
    return JSONResponse(
        {"key": key, "image_url": f"/core/auth/captcha/image/{key}/", "audio_url": None}
    )


async def home(ctx: Ctx) -> Response:
    """`/`: the web UI for a logged-in jar, else a redirect to the login page."""
    if not _is_logged_in(ctx):
        return redirect(f"{LOGIN_URL}?next={quote(ctx.path)}")
    return redirect("/ui/")


async def ui(ctx: Ctx) -> Response:
    """A placeholder for the Lina/Luna web UI."""
    if not _is_logged_in(ctx):
        return redirect(f"{LOGIN_URL}?next={quote(ctx.path)}")
    return HTMLResponse(tpl.message_page("Workbench", "JumpServer sandbox"))


async def static_js(ctx: Ctx) -> Response:
    """jumpserver.js always; session-encrypt.js only from 4.10.17."""
    version = ctx.state.version
    name = ctx.request.path_params["name"]
    if name == "session-encrypt.js" and version.has_session_encrypt_js:
        body = tpl.jumpserver_js(version.password_separator, True)
    elif name == "jumpserver.js":
        body = tpl.jumpserver_js(":", not version.has_session_encrypt_js)
    else:
        raise HtmlNotFound
    return Response(body, media_type="application/javascript")


async def _dispatch_login(ctx: Ctx) -> Response:
    return await (login_post(ctx) if ctx.request.method == "POST" else login_get(ctx))


async def _dispatch_mfa(ctx: Ctx) -> Response:
    return await (mfa_post(ctx) if ctx.request.method == "POST" else mfa_get(ctx))


routes = [
    Route("/", html_view(home)),
    Route("/ui/", html_view(ui)),
    Route(LOGIN_URL, html_view(_dispatch_login), methods=["GET", "POST"]),
    Route(GUARD_URL, html_view(guard)),
    Route(MFA_URL, html_view(_dispatch_mfa), methods=["GET", "POST"]),
    Route(WAIT_CONFIRM_URL, html_view(wait_confirm)),
    Route("/core/auth/logout/", html_view(logout)),
    Route("/core/auth/captcha/image/{key}/", html_view(captcha_image)),
    Route("/core/auth/captcha/refresh/", html_view(captcha_refresh)),
    Route("/static/js/{name}", html_view(static_js)),
]
