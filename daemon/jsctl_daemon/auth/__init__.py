"""The auth domain: profiles, web logins, access keys and keeping the web session alive."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from jsctl_protocol import quote_input

from ..config import Config
from ..jumpserver import Credentials
from ..jumpserver.access_keys import revoke_access_key
from ..jumpserver.errors import JumpServerError, LoginRequired
from ..jumpserver.koko_auth import KokoCredentials
from ..storage import read_private_json, write_private_json
from ._errors import (
    AuthError,
    BadLoginRequest,
    LoginGone,
    LoginInProgress,
    LoginRefused,
    NotLoggedIn,
    UnknownProfile,
)
from ._koko import access_key_credentials
from ._logins import Logins
from ._profile import ProfileState

log = logging.getLogger(__name__)

ProfileListener = Callable[[str], Awaitable[None]]

__all__ = [
    "AuthDomain",
    "AuthError",
    "BadLoginRequest",
    "LoginGone",
    "LoginInProgress",
    "LoginRefused",
    "NotLoggedIn",
    "UnknownProfile",
]


class AuthDomain:
    """Owns every credential; front ends only prompt."""

    def __init__(self, state_dir: Path, config: Config) -> None:
        self.config = config
        self._dir = state_dir / "profiles"
        self._settings_file = state_dir / "settings.json"
        self.profiles: dict[str, ProfileState] = {}
        self.logins = Logins(self)  # logins in progress
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
            raise NotLoggedIn(
                "no JumpServer profile yet — run `jsctl login --url https://…`",
            )
        raise BadLoginRequest(
            "several profiles and no default: pass --profile "
            f"({', '.join(sorted(self.profiles))}) or run `jsctl profile use NAME`",
        )

    def profile(self, name: str | None = None) -> ProfileState:
        """A logged-in profile; NotLoggedIn with the command to run if there is none."""
        resolved = self.resolve_name(name)
        state = self.profiles.get(resolved)
        if state is None:
            raise NotLoggedIn(
                f"profile {quote_input(resolved)} is not logged in"
                f" — run `jsctl login --profile {resolved}`",
            )
        return state

    def use(self, name: str) -> None:
        """Make ``name`` the default profile."""
        if name not in self.profiles and name not in self.config.profiles:
            raise UnknownProfile(f"no profile {quote_input(name)} — `jsctl profile ls`")
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

    # --- a new login's outcome
    async def adopt(self, state: ProfileState) -> None:
        """Make a freshly logged-in profile current (its earlier login's key is revoked)."""
        old = self.profiles.get(state.name)
        if old is not None:
            await self._revoke_key(old)
            await old.aclose()
        self.profiles[state.name] = state
        self._save(state)
        if self.default is None or self.default not in self.profiles:
            self.default = state.name
            self._save_settings()

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
        await self.logins.aclose()
        for state in self.profiles.values():
            with contextlib.suppress(Exception):
                await self.persist_cookies(state)
            await state.aclose()
