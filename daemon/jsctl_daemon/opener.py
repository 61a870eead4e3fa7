"""Open a KoKo terminal for the sessions layer: connection token, KoKo credential, WebSocket."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import trio

from .auth._koko import refused as koko_refused
from .jumpserver import KokoHeartbeat, KokoTerminal, open_terminal
from .jumpserver._endpoint import koko_config
from .jumpserver.config import ServerConfig
from .jumpserver.errors import JumpServerError, LoginRequired
from .jumpserver.koko_auth import KokoCredentials
from .sessions import OpenRequest
from .terminal import TerminalTransport

if TYPE_CHECKING:
    from .auth import AuthDomain
    from .auth._profile import ProfileState

log = logging.getLogger(__name__)


async def koko_site(state: ProfileState, token_id: str) -> ServerConfig:
    """Where KoKo serves this token's asset: the core's site unless the smart endpoint names
    a zone KoKo (see ``jumpserver._endpoint``)."""
    config = state.connection.config
    endpoint = await state.api.smart_endpoint(token_id, config.scheme)
    site = koko_config(config, endpoint)
    if site is not config:
        log.info("profile %s: KoKo for this asset is at %s (smart endpoint)", state.name, site.url)
    return site


class KokoOpener:
    """The sessions layer's opener: one KoKo WebSocket per session, on the profile's login.

    Every terminal shares one heartbeat; the daemon runs it with :meth:`run_heartbeat`.
    """

    def __init__(self, auth: AuthDomain) -> None:
        self._auth = auth
        self._heartbeat = KokoHeartbeat()
        # Closing many sessions at once (kill, logout) expires their tokens a few at a time.
        self._expiring = trio.CapacityLimiter(8)

    async def run_heartbeat(self) -> None:
        """PING and watch every terminal this opener opened (runs until cancelled)."""
        await self._heartbeat.run()

    @contextlib.asynccontextmanager
    async def __call__(self, request: OpenRequest) -> AsyncIterator[TerminalTransport]:
        assert request.asset_id is not None and request.account_alias is not None
        state, credentials = await self._auth.koko_credentials(request.profile)
        with state.tagged():
            token = await state.api.create_connection_token(request.asset_id, request.account_alias)
            try:
                config = await koko_site(state, token.id)
                terminal_cm, terminal = await self._connect(
                    request, state, credentials, token.id, config
                )
                async with contextlib.AsyncExitStack() as stack:
                    stack.push_async_exit(terminal_cm)
                    yield terminal
            finally:
                # KoKo consumed the token on connect; expiring it again is cleanup (404 is fine).
                with (
                    trio.CancelScope(shield=True),
                    trio.move_on_after(5),
                    contextlib.suppress(JumpServerError),
                ):
                    async with self._expiring:
                        await state.api.expire_connection_token(token.id)

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
