"""REST authenticators in JumpServer's order: Signature, Token, Bearer, session (sheet 4.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re

from ._csrf import CsrfFailure
from ._model import AccessKey, User
from ._web import UNSAFE_METHODS, Ctx, ServerErrorPage, detail_error

_SIG_PARAM = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')
REQUIRED_SIGNED = ("(request-target)", "date")


def user_is_valid(user: User, now: float) -> bool:
    """Active and not expired."""
    return user.is_active and (user.date_expired is None or user.date_expired > now)


def ip_allowed(ip: str, ip_group: list[str]) -> bool:
    """Whether ``ip`` is inside an access key's ip_group ('*', addresses, CIDRs, a-b ranges)."""
    for entry in ip_group:
        entry = entry.strip()
        if entry == "*" or entry == ip:
            return True
        try:
            address = ipaddress.ip_address(ip)
            if "/" in entry and address in ipaddress.ip_network(entry, strict=False):
                return True
            if "-" in entry:
                low, high = (ipaddress.ip_address(p.strip()) for p in entry.split("-", 1))
                if low <= address <= high:  # type: ignore[operator]
                    return True
        except ValueError:
            continue
    return False


def signing_string(ctx: Ctx, headers: list[str]) -> str:
    """The draft-cavage signing string for this request (sheet 4.3)."""
    raw_path = ctx.request.scope.get("raw_path") or ctx.path.encode()
    target = raw_path.decode("latin-1")
    query = ctx.request.scope.get("query_string", b"").decode("latin-1")
    if query:
        target += "?" + query
    lines = []
    for name in headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {ctx.request.method.lower()} {target}")
        else:
            lines.append(f"{name}: {ctx.request.headers[name]}")
    return "\n".join(lines)


def _find_key(ctx: Ctx, key_id: str) -> tuple[User, AccessKey] | None:
    for user in ctx.state.directory.users.values():
        for key in user.access_keys:
            if key.id == key_id:
                return user, key
    return None


def _signature(ctx: Ctx, value: str) -> User:
    params = dict(_SIG_PARAM.findall(value))
    headers = params.get("headers", "date").lower().split()
    if any(h not in headers for h in REQUIRED_SIGNED) or "date" not in ctx.request.headers:
        raise ServerErrorPage("signature lacks required headers")
    if any(h != "(request-target)" and h not in ctx.request.headers for h in headers):
        raise ServerErrorPage("signed header missing")
    invalid = detail_error(401, "Invalid signature.", "authentication_failed")
    found = _find_key(ctx, params.get("keyId", ""))
    if found is None:  # deleted (revoked) or never existed: fetch_user_data gives (None, None)
        raise invalid
    user, key = found
    if not key.is_active or not user_is_valid(user, ctx.now):
        raise invalid
    if not ip_allowed(ctx.client_ip, key.ip_group):
        raise detail_error(401, "Ip is not in access ip list.", "authentication_failed")
    expected = hmac.new(
        key.secret.encode(), signing_string(ctx, headers).encode(), hashlib.sha256
    ).digest()
    try:
        given = base64.b64decode(params.get("signature", ""))
    except ValueError:
        raise invalid from None
    if params.get("algorithm", "").lower() != "hmac-sha256" or not hmac.compare_digest(
        given, expected
    ):
        raise invalid
    key.date_last_used = user.date_api_key_last_used = ctx.now
    return user


def _bearer(ctx: Ctx, value: str) -> User | None:
    parts = value.split()
    if len(parts) == 1:
        raise detail_error(
            401, "Invalid token header. No credentials provided.", "authentication_failed"
        )
    if len(parts) > 2:
        raise detail_error(
            401,
            "Invalid token header. Sign string should not contain spaces.",
            "authentication_failed",
        )
    token = ctx.state.bearer_tokens.get(parts[1])
    if token is None or token.expires_at <= ctx.now:
        return None  # an unknown bearer falls through to the next authenticator
    user = ctx.state.directory.users.get(token.user_id)
    return user if user is not None and user_is_valid(user, ctx.now) else None


def _private_token(ctx: Ctx, value: str) -> User:
    parts = value.split()
    key = parts[1] if len(parts) == 2 else ""
    for user in ctx.state.directory.users.values():
        if key and key in user.private_tokens and user_is_valid(user, ctx.now):
            return user
    raise detail_error(401, "Invalid token.", "authentication_failed")


def session_user(ctx: Ctx) -> User | None:
    """The user of a fully logged-in web session."""
    user_id = ctx.session.get("user_id")
    if not user_id or not ctx.session.get("logged_in"):
        return None
    user = ctx.state.directory.users.get(user_id)
    return user if user is not None and user_is_valid(user, ctx.now) else None


def enforce_csrf(ctx: Ctx) -> None:
    """CSRF for cookie-authenticated unsafe API calls: 403 permission_denied on failure."""
    try:
        ctx.check_csrf(ctx.request.headers.get("x-csrftoken"), "the 'X-Csrftoken' HTTP header")
    except CsrfFailure as exc:
        raise detail_error(403, f"CSRF Failed: {exc}", "permission_denied") from None


def authenticate(ctx: Ctx) -> None:
    """Set ctx.user/ctx.auth_via from the request, or raise the server's error."""
    header = ctx.request.headers.get("authorization", "")
    scheme = header.split(" ", 1)[0].lower() if header else ""
    order = (
        ["signature", "token", "bearer"]
        if ctx.state.version.signature_first
        else ["bearer", "token", "signature"]
    )
    for name in order:
        if scheme != name:
            continue
        if name == "signature":
            ctx.user = _signature(ctx, header)
        elif name == "token":
            ctx.user = _private_token(ctx, header)
        else:
            ctx.user = _bearer(ctx, header)
        if ctx.user is not None:
            ctx.auth_via = name
            return
    ctx.user = session_user(ctx)
    if ctx.user is not None:
        ctx.auth_via = "session"
        if ctx.request.method in UNSAFE_METHODS:
            enforce_csrf(ctx)


def challenge_header(ctx: Ctx) -> str:
    """The WWW-Authenticate value of the first authenticator."""
    if ctx.state.version.signature_first:
        return 'Signature realm="api",headers="(request-target) date"'
    return "Bearer"


def not_authenticated(ctx: Ctx) -> Exception:
    """401 not_authenticated with the version's challenge."""
    return detail_error(
        401,
        "Authentication credentials were not provided.",
        "not_authenticated",
        **{"WWW-Authenticate": challenge_header(ctx)},
    )
