"""Logins in progress: the web login state machine driven step by step for a front end.

A login belongs to the connection that started it (it ends if that client goes away) and, once
the server says it is done, becomes the profile's current login (:meth:`AuthDomain.adopt`).
"""

from __future__ import annotations

import contextlib
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from jsctl_protocol import quote_input

from ..jumpserver import Credentials, ServerConfig
from ..jumpserver.errors import AuthFailed, JumpServerError
from ..jumpserver.login_steps import LoggedIn, Step, WaitingReview
from ._errors import BadLoginRequest, LoginGone, LoginInProgress, LoginRefused
from ._login import PendingLogin, step_to_wire
from ._orgs import check_org
from ._profile import ProfileState

if TYPE_CHECKING:
    from . import AuthDomain

log = logging.getLogger(__name__)

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Logins:
    """Every login in progress, by id."""

    def __init__(self, auth: AuthDomain) -> None:
        self._auth = auth
        self._pending: dict[str, PendingLogin] = {}

    async def start(self, owner: int, params: dict[str, Any]) -> dict[str, Any]:
        """Begin a web login; answers the first step the server needs."""
        self._drop_expired()
        name = params.get("profile") or self._auth.default or "default"
        if not _PROFILE_NAME.match(name):
            raise BadLoginRequest(
                f"bad profile name {name!r}: use letters, digits, '.', '_' or '-'",
            )
        for pending in self._pending.values():
            if pending.profile == name:
                raise LoginInProgress(
                    f"a login for profile {quote_input(name)} is already in "
                    "progress in another terminal; finish or cancel it first",
                )
        known = self._auth.profiles.get(name)
        defaults = self._auth.config.profile(name)
        url = params.get("url") or (known.credentials.url if known else None) or defaults.url
        username = (
            params.get("username")
            or (known.credentials.username if known else None)
            or defaults.username
        )
        if not url:
            raise BadLoginRequest(
                f"profile {quote_input(name)} has no server URL yet: pass --url https://jms.example.com",
            )
        if not username:
            raise BadLoginRequest("which JumpServer user? pass --username")
        insecure = params.get(
            "insecure", known.credentials.insecure if known else defaults.insecure
        )
        ca_file = params.get("ca_file") or (
            known.credentials.ca_file if known else defaults.ca_file
        )
        if ca_file and not Path(ca_file).is_absolute():
            raise BadLoginRequest(f"--ca-file must be an absolute path: {ca_file}")
        org = params.get("org") or (known.credentials.org if known else defaults.org)
        try:
            server = ServerConfig(
                url, ca_file=ca_file, insecure=bool(insecure), org=org, timeout=defaults.timeout
            )
        except ValueError as exc:
            raise BadLoginRequest(str(exc)) from None
        pending = PendingLogin(name, server, username, owner)
        try:
            step = await pending.flow.start()
        except BaseException:
            await pending.aclose()
            raise
        self._pending[pending.id] = pending
        return {
            **step_to_wire(pending.id, step),
            "profile": name,
            "url": server.url,
            "username": username,
        }

    async def answer(self, params: dict[str, Any]) -> dict[str, Any]:
        """Feed the current step's answer to a login; answers the next step or `done`."""
        pending = self._pending.get(params["login_id"])
        if pending is None or pending.expired:
            raise LoginGone(
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
                await self._end(pending)
            raise LoginRefused(
                exc.server_message or str(exc),
                {
                    "auth_error": exc.code,
                    "retry": step_to_wire(pending.id, retry) if retry is not None else None,
                },
            ) from None
        except ValueError as exc:
            raise BadLoginRequest(str(exc)) from None
        except BaseException:
            await self._end(pending)
            raise
        if not isinstance(step, LoggedIn):
            return step_to_wire(pending.id, step)
        return await self._finish(pending, step)

    async def _finish(self, pending: PendingLogin, step: LoggedIn) -> dict[str, Any]:
        try:
            org = await check_org(pending.connection, pending.username)
        except BaseException:
            await self._end(pending)
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
        credentials = Credentials.from_login(pending.connection, pending.username, access_key)
        if org is not None:
            credentials.org = org.id  # X-JMS-ORG takes ids (a name would fall back to Default)
        state = ProfileState(pending.profile, credentials)
        state.user = dict(step.profile)
        state.mark_web_session(True)
        self._pending.pop(pending.id, None)
        await pending.connection.aclose()
        await self._auth.adopt(state)
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

    async def cancel(self, login_id: str) -> None:
        """Abandon a login in progress."""
        pending = self._pending.get(login_id)
        if pending is not None:
            await self._end(pending)

    async def cancel_of(self, owner: int) -> None:
        """The client that started these logins went away."""
        for pending in [p for p in self._pending.values() if p.owner == owner]:
            await self._end(pending)

    async def _end(self, pending: PendingLogin) -> None:
        self._pending.pop(pending.id, None)
        with contextlib.suppress(Exception):
            await pending.aclose()

    def _drop_expired(self) -> None:
        for login_id in [k for k, p in self._pending.items() if p.expired]:
            self._pending.pop(login_id)

    async def aclose(self) -> None:
        """End every login in progress (the daemon is stopping)."""
        for pending in list(self._pending.values()):
            await self._end(pending)


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
