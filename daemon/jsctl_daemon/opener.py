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
from .jumpserver.errors import JumpServerError, LoginRequired
from .jumpserver.koko_auth import KokoCredentials
from .sessions import OpenRequest
from .terminal import TerminalTransport

if TYPE_CHECKING:
    from .auth import AuthDomain
    from .auth._profile import ProfileState

log = logging.getLogger(__name__)


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
                terminal_cm, terminal = await self._connect(request, state, credentials, token.id)
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
    ) -> tuple[AbstractAsyncContextManager[KokoTerminal], KokoTerminal]:
        """Open the WebSocket. KoKo refusing the access key (revoked?) is retried once with
        what KoKo takes now (the web session, if it lives): the token was not used yet."""
        for attempt in range(2):
            terminal_cm = open_terminal(
                state.connection.config,  # one TLS context per profile, not per session
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
