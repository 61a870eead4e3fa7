"""Open a file session on an asset: connection token, KoKo credential, the right API.

v4 servers offer ``/koko/ws/sftp/``; where that upgrade answers 404 (v3) the elFinder
WebSocket + HTTP connector is used instead (sheet 8.1, 9.1). ``prefer`` (or the environment
variable ``JSCTL_FILES_API`` = ``auto``, ``sftp`` or ``elfinder``) forces one of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from ..auth._koko import refused as koko_refused
from ..jumpserver.errors import JumpServerError, LoginRequired
from ..opener import koko_site
from ._backend import FileBackend
from ._elfinder import open_elfinder
from ._settings import FileSettings
from ._sftp import SftpApiMissing, open_sftp

if TYPE_CHECKING:
    from ..auth import AuthDomain
    from ..auth._profile import ProfileState

__all__ = ["FileKey", "KokoFileOpener"]

log = logging.getLogger(__name__)


class _KeyRefused(Exception):
    """KoKo refused the access key; the open is tried once more."""


@dataclass(frozen=True)
class FileKey:
    """What a file session is for: sessions are reused per key."""

    profile: str
    asset_id: str
    account_alias: str
    owner: str
    asset: str = ""  # display names, not part of the identity
    account: str = ""

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """The fields that make two requests share a session."""
        return (self.profile, self.asset_id, self.account_alias, self.owner)


class KokoFileOpener:
    """Opens file sessions on the profile's login (``prefer``: auto, sftp or elfinder)."""

    def __init__(self, auth: AuthDomain, settings: FileSettings, prefer: str | None = None) -> None:
        self._auth = auth
        self._settings = settings
        self.prefer = prefer or os.environ.get("JSCTL_FILES_API", "auto")

    @contextlib.asynccontextmanager
    async def __call__(self, key: FileKey) -> AsyncIterator[FileBackend]:
        async with contextlib.AsyncExitStack() as stack:
            try:
                backend = await self._enter(key, stack)
            except _KeyRefused:
                # KoKo refused the access key (revoked?): once more, with what it takes now.
                backend = await self._enter(key, stack, retry=False)
            yield backend

    async def _enter(
        self, key: FileKey, stack: contextlib.AsyncExitStack, *, retry: bool = True
    ) -> FileBackend:
        state, credentials = await self._auth.koko_credentials(key.profile)

        def refused(exc: LoginRequired) -> Exception:
            error = koko_refused(state, credentials, exc)
            return _KeyRefused() if retry and credentials.via == "access_key" else error

        if self.prefer != "elfinder":
            token = await self._token(state, key, stack)
            config = await koko_site(state, token)  # the profile's, or the asset's zone KoKo
            try:
                return await stack.enter_async_context(
                    open_sftp(config, credentials, token, self._settings)
                )
            except SftpApiMissing:
                if self.prefer == "sftp":
                    raise
                log.info("no /koko/ws/sftp/ on %s: using elFinder", config.url)
            except LoginRequired as exc:
                raise refused(exc) from None
        token = await self._token(state, key, stack)
        config = await koko_site(state, token)
        try:
            return await stack.enter_async_context(
                open_elfinder(config, credentials, token, key.asset_id, self._settings)
            )
        except LoginRequired as exc:
            raise refused(exc) from None

    async def _token(
        self, state: ProfileState, key: FileKey, stack: contextlib.AsyncExitStack
    ) -> str:
        with state.tagged():
            token = await state.api.create_connection_token(
                key.asset_id, key.account_alias, protocol="sftp", connect_method="web_sftp"
            )

        async def expire() -> None:
            # KoKo consumed the token on connect; expiring it again is cleanup (404 is fine).
            with (
                trio.CancelScope(shield=True),
                trio.move_on_after(5),
                contextlib.suppress(JumpServerError),
            ):
                await state.api.expire_connection_token(token.id)

        stack.push_async_callback(expire)
        return token.id
