"""Open a KoKo terminal for the sessions layer: connection token, KoKo credential, WebSocket."""

from __future__ import annotations

import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING

import trio

from .auth._koko import refused as koko_refused
from .jumpserver import KokoHeartbeat, KokoTerminal, open_terminal
from .jumpserver._endpoint import koko_config
from .jumpserver.config import ServerConfig
from .jumpserver.errors import JumpServerError, LoginRequired
from .jumpserver.koko_auth import KokoCredentials
from .sessions import SERVER_IDLE_KEY, OpenRequest
from .terminal import TerminalTransport

if TYPE_CHECKING:
    from .auth import AuthDomain
    from .auth._profile import ProfileState

log = logging.getLogger(__name__)

# The smart endpoint's answer depends on the asset (its labels, then its IP against the
# endpoint rules) and the protocol, not on the token it is asked with; like the asset's detail
# it is asked again once older than this, and at once after a failed connection.
SITE_MAX_AGE = 30.0
_SITES_KEPT = 4096
IDLE_LIMIT_TTL_S = 600.0  # the server's idle setting is read again after this long


async def koko_site(state: ProfileState, token_id: str) -> ServerConfig:
    """Where KoKo serves this token's asset: the core's site unless the smart endpoint names
    a zone KoKo (see ``jumpserver._endpoint``)."""
    config = state.connection.config
    endpoint = await state.api.smart_endpoint(token_id, config.scheme)
    site = koko_config(config, endpoint)
    if site is not config:
        log.info("profile %s: KoKo for this asset is at %s (smart endpoint)", state.name, site.url)
    return site


class KokoSites:
    """Where KoKo served each asset lately, per profile (a fleet reopening its assets, exec's
    pool replacing a session, ask the core once rather than for every terminal)."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], tuple[float, ServerConfig]] = {}

    def get(self, profile: str, asset_id: str) -> ServerConfig | None:
        """The site remembered for the asset, if younger than ``SITE_MAX_AGE``."""
        known = self._known.get((profile, asset_id))
        if known is None or trio.current_time() - known[0] > SITE_MAX_AGE:
            return None
        return known[1]

    def put(self, profile: str, asset_id: str, site: ServerConfig) -> None:
        """Remember the site the core named for the asset."""
        if len(self._known) >= _SITES_KEPT:
            now = trio.current_time()
            self._known = {k: v for k, v in self._known.items() if now - v[0] <= SITE_MAX_AGE}
        self._known[(profile, asset_id)] = (trio.current_time(), site)

    def drop(self, profile: str, asset_id: str) -> None:
        """Ask the core again next time (a connection there failed)."""
        self._known.pop((profile, asset_id), None)

    async def forget_profile(self, profile: str) -> None:
        """Drop what a profile's login learnt (an ``auth.on_forget`` listener)."""
        self._known = {k: v for k, v in self._known.items() if k[0] != profile}


class KokoOpener:
    """The sessions layer's opener: one KoKo WebSocket per session, on the profile's login.

    Every terminal shares one heartbeat; the daemon runs it with :meth:`run_heartbeat`.
    """

    def __init__(self, auth: AuthDomain) -> None:
        self._auth = auth
        self._heartbeat = KokoHeartbeat()
        # Closing many sessions at once (kill, logout) expires their tokens a few at a time.
        self._expiring = trio.CapacityLimiter(8)
        self.sites = KokoSites()
        auth.on_forget.append(self.sites.forget_profile)
        # Per profile: (when read, KoKo's idle limit in seconds or None when unreadable).
        self._idle_limits: dict[str, tuple[float, float | None]] = {}
        self._idle_locks: dict[str, trio.Lock] = {}

    async def run_heartbeat(self) -> None:
        """PING and watch every terminal this opener opened (runs until cancelled)."""
        await self._heartbeat.run()

    def __call__(self, request: OpenRequest) -> AbstractAsyncContextManager[TerminalTransport]:
        return _Opening(self, request)

    async def _open_at_site(
        self, request: OpenRequest, state: ProfileState, credentials: KokoCredentials, token: str
    ) -> tuple[AbstractAsyncContextManager[KokoTerminal], KokoTerminal]:
        """The terminal on the KoKo serving the asset (the one the core named lately, if any)."""
        assert request.asset_id is not None
        config = self.sites.get(state.name, request.asset_id)
        if config is None:
            config = await koko_site(state, token)
            self.sites.put(state.name, request.asset_id, config)
        try:
            return await self._connect(request, state, credentials, token, config)
        except Exception:
            self.sites.drop(state.name, request.asset_id)
            raise

    async def _idle_limit(self, state: ProfileState) -> float | None:
        """The server's SECURITY_MAX_IDLE_TIME in seconds (cached per profile); None when it
        cannot be read (sessions then show KoKo's default, marked as assumed)."""
        lock = self._idle_locks.setdefault(state.name, trio.Lock())
        async with lock:  # a fleet opening 100 sessions asks once
            cached = self._idle_limits.get(state.name)
            now = trio.current_time()
            if cached is not None and now - cached[0] < IDLE_LIMIT_TTL_S:
                return cached[1]
            try:
                with trio.move_on_after(5):
                    minutes = await state.api.max_idle_minutes()
                    seconds = None if minutes is None else minutes * 60.0
                    self._idle_limits[state.name] = (now, seconds)
                    return seconds
            except JumpServerError as exc:
                log.info("profile %s: cannot read the server's idle limit: %s", state.name, exc)
            self._idle_limits[state.name] = (now, None)
            return None

    async def _connect(
        self,
        request: OpenRequest,
        state: ProfileState,
        credentials: KokoCredentials,
        token_id: str,
        config: ServerConfig,
    ) -> tuple[AbstractAsyncContextManager[KokoTerminal], KokoTerminal]:
        """Open the WebSocket. KoKo refusing the access key (revoked?) is retried once with
        what KoKo takes now (the web session, if it lives): the token was not used yet."""
        for attempt in range(2):
            terminal_cm = open_terminal(
                config,  # the profile's (one TLS context per profile), or its asset's zone KoKo
                credentials,
                token_id,
                cols=request.cols,
                rows=request.rows,
                heartbeat=self._heartbeat,
            )
            try:
                return terminal_cm, await terminal_cm.__aenter__()
            except LoginRequired as exc:  # KoKo refused the credential (302/401)
                error = koko_refused(state, credentials, exc)
                if credentials.via != "access_key" or attempt:
                    raise error from None
                log.info("profile %s: KoKo refused the access key; asking again", state.name)
            state, credentials = await self._auth.koko_credentials(request.profile)
        raise AssertionError("unreachable")


class _Opening(AbstractAsyncContextManager[TerminalTransport]):
    """One terminal of the opener: a connection token, KoKo's WebSocket on it, the token
    expired at the end. A slotted object rather than an async generator: every open terminal
    holds it for its whole life (a generator's frame and wrapper cost ~0.7 KiB a session)."""

    __slots__ = ("_opener", "_request", "_state", "_terminal_cm", "_token_id")

    def __init__(self, opener: KokoOpener, request: OpenRequest) -> None:
        self._opener = opener
        self._request = request
        self._state: ProfileState | None = None
        self._token_id = ""
        self._terminal_cm: AbstractAsyncContextManager[KokoTerminal] | None = None

    async def __aenter__(self) -> TerminalTransport:
        opener, request = self._opener, self._request
        assert request.asset_id is not None and request.account_alias is not None
        state, credentials = await opener._auth.koko_credentials(request.profile)
        self._state = state
        with state.tagged():
            token = await state.api.create_connection_token(request.asset_id, request.account_alias)
            self._token_id = token.id
            try:
                terminal_cm, terminal = await opener._open_at_site(
                    request, state, credentials, token.id
                )
                # As `async with` would (entered in _connect); an exit stack's deque is ~1 KiB a
                # session for one callback.
                try:
                    idle_s = await opener._idle_limit(state)
                except BaseException as exc:
                    await terminal_cm.__aexit__(type(exc), exc, exc.__traceback__)
                    raise
            except BaseException:
                await self._expire_token()
                raise
        if idle_s is not None:
            terminal.info[SERVER_IDLE_KEY] = idle_s
        self._terminal_cm = terminal_cm
        return terminal

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        assert self._state is not None and self._terminal_cm is not None
        try:
            with self._state.tagged():
                suppressed = await self._terminal_cm.__aexit__(kind, exc, traceback)
            if not suppressed and isinstance(exc, JumpServerError):
                exc.for_profile(self._state.name)  # as the errors raised in opening are
            return suppressed
        finally:
            await self._expire_token()

    async def _expire_token(self) -> None:
        """KoKo consumed the token on connect; expiring it again is cleanup (404 is fine)."""
        assert self._state is not None
        with (
            trio.CancelScope(shield=True),
            trio.move_on_after(5),
            contextlib.suppress(JumpServerError),
        ):
            async with self._opener._expiring:
                await self._state.api.expire_connection_token(self._token_id)
