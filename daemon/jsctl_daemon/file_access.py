"""A file session for a call's asset, borrowed within the caller's allow-lists, and the audit
record of what the call did with it (written however the call ends)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jsctl_protocol import RpcError

from .audit import AuditLog
from .errors import DomainError
from .files import FileBackend, FileError, FileKey, FileSessionManager
from .rpc import CallContext
from .targets import Targets


class FileAccess:
    """File sessions as one caller may use them."""

    def __init__(self, files: FileSessionManager, targets: Targets, audit: AuditLog) -> None:
        self._files = files
        self._targets = targets
        self._audit = audit

    async def _key(self, ctx: CallContext, params: dict[str, Any]) -> FileKey:
        profile, asset, account = await self._targets.resolve(ctx.identity, params)
        owner = ctx.identity.owner
        return FileKey(profile, asset.id, account.alias, owner, asset.name, account.name)

    @asynccontextmanager
    async def session(
        self, ctx: CallContext, params: dict[str, Any], action: str, **audit: Any
    ) -> AsyncIterator[tuple[str, FileBackend, dict[str, Any]]]:
        """A file session for the call's asset; the audit record is written however it ends.

        The handler adds outcome fields (bytes, files…) to the yielded dict.
        """
        key = await self._key(ctx, params)
        outcome: dict[str, Any] = {}
        started = time.monotonic()
        try:
            async with self._files.use(key) as (session_id, backend):
                outcome["file_session"] = session_id
                yield session_id, backend, outcome
        except BaseException as exc:
            outcome["outcome"] = "error"
            failed = isinstance(exc, FileError | RpcError | DomainError)
            outcome["error"] = str(exc) if failed else type(exc).__name__
            raise
        else:
            outcome["outcome"] = "ok"
        finally:
            self._audit.record(
                ctx.identity,
                action,
                profile=key.profile,
                asset=key.asset,
                account=key.account,
                duration_s=round(time.monotonic() - started, 3),
                **audit,
                **outcome,
            )
