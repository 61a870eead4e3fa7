"""Open a KoKo terminal for the sessions layer: connection token, web-session probe, WebSocket."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import trio

from .jumpserver import KokoHeartbeat, open_terminal
from .jumpserver.errors import JumpServerError, LoginRequired
from .sessions import OpenRequest
from .terminal import TerminalTransport

if TYPE_CHECKING:
    from .auth import AuthDomain

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
        state, cookie_header = await self._auth.web_cookie_header(request.profile)
        with state.tagged():
            token = await state.api.create_connection_token(request.asset_id, request.account_alias)
            try:
                try:
                    terminal_cm = open_terminal(
                        state.connection.config,  # one TLS context per profile, not per session
                        cookie_header,
                        token.id,
                        cols=request.cols,
                        rows=request.rows,
                        heartbeat=self._heartbeat,
                    )
                    terminal = await terminal_cm.__aenter__()
                except LoginRequired as exc:
                    state.mark_web_session(False, exc.reason)  # KoKo refused the cookie (302)
                    raise
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
