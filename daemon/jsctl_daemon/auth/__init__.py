"""The auth domain: profiles, web logins, access keys and keeping the web session alive."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from jsctl_protocol import ErrorCode, RpcError, quote_input

from ..config import Config
from ..jumpserver import Credentials, ServerConfig
from ..jumpserver.access_keys import revoke_access_key
from ..jumpserver.errors import AuthFailed, JumpServerError, LoginRequired
from ..jumpserver.koko_auth import KokoCredentials
from ..jumpserver.login_steps import LoggedIn, Step, WaitingReview
from ..storage import read_private_json, write_private_json
from ._koko import access_key_credentials
from ._login import PendingLogin, step_to_wire
from ._orgs import check_org
from ._profile import ProfileState

log = logging.getLogger(__name__)

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

ProfileListener = Callable[[str], Awaitable[None]]


class AuthDomain:
    """Owns every credential; front ends only prompt."""

    def __init__(self, state_dir: Path, config: Config) -> None:
        self.config = config
        self._dir = state_dir / "profiles"
        self._settings_file = state_dir / "settings.json"
        self.profiles: dict[str, ProfileState] = {}
        self.logins: dict[str, PendingLogin] = {}
        self.default: str | None = None
        self.on_forget: list[ProfileListener] = []  # called when a profile's login is dropped

    # --- persistence
    def load(self) -> None:
        """Read every profile's state file (a broken one is reported, never overwritten)."""
        settings = read_private_json(self._settings_file, "remove it to reset the default") or {}
        self.default = settings.get("default_profile") or self.config.default_profile
        if not self._dir.is_dir():
            return
        for path in sorted(self._dir.glob("*.json")):
            name = path.stem
            remedy = f"move it away, or run `jsctl profile rm {name}`"
            try:
                data = read_private_json(path, remedy)
                if data is not None:
                    credentials = Credentials.from_dict(data["credentials"])
                    self.profiles[name] = ProfileState(name, credentials)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("profile %s: unreadable state %s: %s", name, path, exc)
            except Exception as exc:
                log.error("%s", exc)

    def _save(self, state: ProfileState) -> None:
        state.credentials.cookies = state.connection.export_cookies()
        state.credentials.saved_at = time.time()
        write_private_json(
            self._dir / f"{state.name}.json",
            {"profile": state.name, "credentials": state.credentials.to_dict()},
        )

    def _save_settings(self) -> None:
        write_private_json(self._settings_file, {"default_profile": self.default})

    async def persist_cookies(self, state: ProfileState) -> None:
        """Save the profile if the server re-issued its cookies."""
        if state.cookies_changed():
            self._save(state)

    # --- profiles
    def resolve_name(self, name: str | None) -> str:
        """The profile a call means: the given name, else the default, else the only one."""
        if name:
            return name
        if self.default:
            return self.default
        if len(self.profiles) == 1:
            return next(iter(self.profiles))
        if not self.profiles:
            raise RpcError(
                ErrorCode.LOGIN_REQUIRED,
                "no JumpServer profile yet — run `jsctl login --url https://…`",
            )
        raise RpcError(
            ErrorCode.BAD_PARAMS,
            "several profiles and no default: pass --profile "
            f"({', '.join(sorted(self.profiles))}) or run `jsctl profile use NAME`",
        )

    def profile(self, name: str | None = None) -> ProfileState:
        """A logged-in profile; LOGIN_REQUIRED with the command to run if there is none."""
        resolved = self.resolve_name(name)
        state = self.profiles.get(resolved)
        if state is None:
            raise RpcError(
                ErrorCode.LOGIN_REQUIRED,
                f"profile {quote_input(resolved)} is not logged in"
                f" — run `jsctl login --profile {resolved}`",
            )
        return state

    def use(self, name: str) -> None:
        """Make ``name`` the default profile."""
        if name not in self.profiles and name not in self.config.profiles:
            raise RpcError(
                ErrorCode.NOT_FOUND, f"no profile {quote_input(name)} — `jsctl profile ls`"
            )
        self.default = name
        self._save_settings()

    def listing(self) -> dict[str, Any]:
        """Profiles for `jsctl profile ls`."""
        names = sorted(set(self.profiles) | set(self.config.profiles))
        rows = []
        for name in names:
            state = self.profiles.get(name)
            defaults = self.config.profile(name)
            rows.append(
                {
                    "name": name,
                    "default": name == self.default,
                    "logged_in": state is not None,
                    "url": state.credentials.url if state else defaults.url,
                    "username": state.credentials.username if state else defaults.username,
                    "org": state.credentials.org if state else defaults.org,
                }
            )
        return {"default": self.default, "profiles": rows}

    # --- login
    async def start_login(self, owner: int, params: dict[str, Any]) -> dict[str, Any]:
        """Begin a web login; answers the first step the server needs."""
        self._drop_expired_logins()
        name = params.get("profile") or self.default or "default"
        if not _PROFILE_NAME.match(name):
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"bad profile name {name!r}: use letters, digits, '.', '_' or '-'",
            )
        for pending in self.logins.values():
            if pending.profile == name:
                raise RpcError(
                    ErrorCode.CONFLICT,
                    f"a login for profile {quote_input(name)} is already in "
                    "progress in another terminal; finish or cancel it first",
                )
        known = self.profiles.get(name)
        defaults = self.config.profile(name)
        url = params.get("url") or (known.credentials.url if known else None) or defaults.url
        username = (
            params.get("username")
            or (known.credentials.username if known else None)
            or defaults.username
        )
        if not url:
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"profile {quote_input(name)} has no server URL yet: pass --url https://jms.example.com",
            )
        if not username:
            raise RpcError(ErrorCode.BAD_PARAMS, "which JumpServer user? pass --username")
        insecure = params.get(
            "insecure", known.credentials.insecure if known else defaults.insecure
        )
        ca_file = params.get("ca_file") or (
            known.credentials.ca_file if known else defaults.ca_file
        )
        if ca_file and not Path(ca_file).is_absolute():
            raise RpcError(ErrorCode.BAD_PARAMS, f"--ca-file must be an absolute path: {ca_file}")
        org = params.get("org") or (known.credentials.org if known else defaults.org)
        try:
            server = ServerConfig(
                url, ca_file=ca_file, insecure=bool(insecure), org=org, timeout=defaults.timeout
            )
        except ValueError as exc:
            raise RpcError(ErrorCode.BAD_PARAMS, str(exc)) from None
        pending = PendingLogin(name, server, username, owner)
        try:
            step = await pending.flow.start()
        except BaseException:
            await pending.aclose()
            raise
        self.logins[pending.id] = pending
        return {
            **step_to_wire(pending.id, step),
            "profile": name,
            "url": server.url,
            "username": username,
        }

    async def answer_login(self, params: dict[str, Any]) -> dict[str, Any]:
        """Feed the current step's answer to a login; answers the next step or `done`."""
        pending = self.logins.get(params["login_id"])
        if pending is None or pending.expired:
            raise RpcError(
                ErrorCode.NOT_FOUND,
                "that login is no longer in progress (it was "
                "cancelled or timed out); run `jsctl login` again",
            )
        answers = {
            key: params[key] for key in ("password", "captcha", "mfa_type", "code") if key in params
        }
        try:
            if "wait" in params:
                step = await _poll_review(pending, float(params["wait"]))
            else:
                step = await pending.flow.answer(**answers)
        except AuthFailed as exc:
            retry = exc.retry
            if retry is None:
                await self._end_login(pending)
            raise RpcError(
                ErrorCode.REMOTE,
                exc.server_message or str(exc),
                {
                    "auth_error": exc.code,
                    "retry": step_to_wire(pending.id, retry) if retry is not None else None,
                },
            ) from None
        except ValueError as exc:
            raise RpcError(ErrorCode.BAD_PARAMS, str(exc)) from None
        except BaseException:
            await self._end_login(pending)
            raise
        if not isinstance(step, LoggedIn):
            return step_to_wire(pending.id, step)
        return await self._finish_login(pending, step)

    async def _finish_login(self, pending: PendingLogin, step: LoggedIn) -> dict[str, Any]:
        try:
            org = await check_org(pending.connection, pending.username)
        except BaseException:
            await self._end_login(pending)
            raise
        warnings = []
        access_key = None
        try:
            access_key = await pending.flow.create_access_key()
        except JumpServerError as exc:
            warnings.append(
                f"no access key was created ({exc}); REST calls will use the web "
                "session, which expires when idle"
            )
        old = self.profiles.get(pending.profile)
        credentials = Credentials.from_login(pending.connection, pending.username, access_key)
        if org is not None:
            credentials.org = org.id  # X-JMS-ORG takes ids (a name would fall back to Default)
        state = ProfileState(pending.profile, credentials)
        state.user = dict(step.profile)
        state.mark_web_session(True)
        self.logins.pop(pending.id, None)
        await pending.connection.aclose()
        if old is not None:
            await self._revoke_key(old)
            await old.aclose()
        self.profiles[pending.profile] = state
        self._save(state)
        if self.default is None or self.default not in self.profiles:
            self.default = pending.profile
            self._save_settings()
        log.info("profile %s: logged in as %s", pending.profile, pending.username)
        return {
            "login_id": pending.id,
            "step": "done",
            "profile": pending.profile,
            "username": pending.username,
            "name": step.profile.get("name"),
            "access_key_id": credentials.access_key_id,
            "warnings": warnings,
        }

    async def cancel_login(self, login_id: str) -> None:
        """Abandon a login in progress."""
        pending = self.logins.get(login_id)
        if pending is not None:
            await self._end_login(pending)

    async def cancel_logins_of(self, owner: int) -> None:
        """The client that started these logins went away."""
        for pending in [p for p in self.logins.values() if p.owner == owner]:
            await self._end_login(pending)

    async def _end_login(self, pending: PendingLogin) -> None:
        self.logins.pop(pending.id, None)
        with contextlib.suppress(Exception):
            await pending.aclose()

    def _drop_expired_logins(self) -> None:
        for login_id in [k for k, p in self.logins.items() if p.expired]:
            self.logins.pop(login_id)

    # --- logout
    async def _revoke_key(self, state: ProfileState) -> bool:
        key_id = state.credentials.access_key_id
        if not key_id:
            return False
        try:
            await revoke_access_key(state.connection, key_id)
            return True
        except JumpServerError as exc:
            log.warning("profile %s: could not revoke access key: %s", state.name, exc)
            return False

    async def logout(self, name: str | None) -> dict[str, Any]:
        """Revoke the access key and the web session server-side, then forget the profile."""
        state = self.profile(name)
        revoked = await self._revoke_key(state)
        web_closed = False
        with contextlib.suppress(JumpServerError):
            await state.connection.request(
                "GET", "/core/auth/logout/", auth="cookie", allow=(200, 302)
            )
            web_closed = True
        await self.forget(state.name)
        return {
            "profile": state.name,
            "access_key_revoked": revoked,
            "web_session_closed": web_closed,
        }

    async def forget(self, name: str) -> None:
        """Drop a profile's login and state file; listeners drop caches and sessions."""
        state = self.profiles.pop(name, None)
        if state is not None:
            await state.aclose()
        with contextlib.suppress(FileNotFoundError):
            (self._dir / f"{name}.json").unlink()
        for listener in self.on_forget:
            await listener(name)
        if self.default == name:
            self.default = next(iter(sorted(self.profiles)), None)
            self._save_settings()

    # --- the web session
    async def probe_web_session(self, state: ProfileState, max_age: float) -> bool:
        """Whether the web session is alive, probing at most every ``max_age`` seconds."""
        async with state.lock:
            if state.web_session_ok is not None and time.time() - state.web_checked_at < max_age:
                return state.web_session_ok
            with state.tagged():
                alive = await state.api.web_session_alive()
            state.mark_web_session(alive)
            await self.persist_cookies(state)
            return alive

    async def web_cookie_header(self, name: str | None) -> tuple[ProfileState, str]:
        """The cookie header for KoKo, after making sure the web session still lives."""
        state = self.profile(name)
        if not await self.probe_web_session(state, self.config.daemon.web_probe_ttl):
            raise LoginRequired(state.web_lost_reason).for_profile(state.name)
        return state, state.connection.cookie_header()

    async def koko_credentials(self, name: str | None) -> tuple[ProfileState, KokoCredentials]:
        """How to authenticate to KoKo: the access key where KoKo takes it (v5), needing no
        web session; else the web-session cookie, after making sure the session lives."""
        state = self.profile(name)
        signed = await access_key_credentials(state)
        if signed is not None:
            return state, signed
        state, cookie_header = await self.web_cookie_header(name)
        return state, KokoCredentials.web_session(cookie_header)

    async def keepalive_forever(self) -> None:
        """Slide every profile's web session well inside its lifetime."""
        while True:
            await trio.sleep(self.config.daemon.keepalive_interval)
            for state in list(self.profiles.values()):
                if state.web_session_ok is False:
                    continue
                try:
                    with state.tagged():
                        alive = await state.api.keepalive()
                    state.mark_web_session(alive)
                    await self.persist_cookies(state)
                    if not alive:
                        log.warning("profile %s: web session expired", state.name)
                except LoginRequired as exc:
                    state.mark_web_session(False, exc.reason)
                except JumpServerError as exc:
                    log.warning("profile %s: keepalive failed: %s", state.name, exc)

    async def aclose(self) -> None:
        """Persist cookies and close every HTTP client."""
        for pending in list(self.logins.values()):
            await self._end_login(pending)
        for state in self.profiles.values():
            with contextlib.suppress(Exception):
                await self.persist_cookies(state)
            await state.aclose()


async def _poll_review(pending: PendingLogin, wait: float) -> Step:
    """Poll a login under review for up to about ``wait`` seconds, never cutting a request
    short: a guard request cancelled mid-flight would lose the new session cookie."""
    deadline = trio.current_time() + wait
    while True:
        step = await pending.flow.answer()
        if not isinstance(step, WaitingReview):
            return step
        if trio.current_time() + step.poll_interval > deadline:
            return step
        await trio.sleep(step.poll_interval)
