"""Which sessions and runs a call may use, and opening (or reusing) one on its behalf.

Shared by the session, run, secret, consent and fleet handlers: an agent sees only what it
owns, a read-only watcher's connection cannot type, and a session opened for a call is
recorded in the audit log and watched until it ends.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from jsctl_protocol import ErrorCode, RpcError, quote_input

from .audit import AuditLog
from .rpc import CallContext
from .session_index import SessionIndex
from .sessions import OpenRequest, SessionManager, UnknownRun, UnknownSession
from .targets import Targets


class SessionAccess:
    """Sessions and runs as one caller may see and use them."""

    def __init__(
        self,
        sessions: SessionManager,
        index: SessionIndex,
        targets: Targets,
        audit: AuditLog,
        recordings: Path | None,
    ) -> None:
        self._sessions = sessions
        self._index = index
        self._targets = targets
        self._audit = audit
        self._recordings = recordings  # where asciicasts go, when recording is on
        self._numbers = itertools.count(1)

    def visible(self, ctx: CallContext, ref: str) -> str:
        """The session id for ``ref`` if the caller may see it (agents see only their own)."""
        owner = ctx.identity.scope
        try:
            session_id, request = self._sessions.request_of(ref)
        except UnknownSession:
            self._index.explain_session(ref, owner)  # lost with an earlier daemon?
            raise
        if owner is not None and request.owner != owner:
            raise RpcError(
                ErrorCode.NOT_FOUND, f"no session {quote_input(ref)} — `sessions` lists yours"
            )
        return session_id

    def writable(self, ctx: CallContext, ref: str) -> str:
        """Like :meth:`visible`, and refused on a connection that watches it read-only."""
        session_id = self.visible(ctx, ref)
        if session_id in ctx.connection.read_only_sessions:
            raise RpcError(
                ErrorCode.FORBIDDEN,
                f"this connection watches session `{session_id}` "
                "read-only; attach without --read-only to type",
            )
        return session_id

    def visible_run(self, ctx: CallContext, handle: str) -> str:
        """The run id for ``handle`` if the caller may see it."""
        owner = ctx.identity.scope
        try:
            info = self._sessions.get_run(handle)
        except UnknownRun:
            self._index.explain_run(handle, owner)  # lost with an earlier daemon?
            raise
        if owner is not None and info.owner != owner:
            raise RpcError(ErrorCode.NOT_FOUND, f"no run {quote_input(handle)}")
        return info.id

    def _recording_path(self) -> Path | None:
        if self._recordings is None:
            return None
        self._recordings.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self._recordings / f"{stamp}-{next(self._numbers)}.cast"

    async def open(
        self, ctx: CallContext, params: dict[str, Any], *, room_wait_s: float = 0.0
    ) -> str:
        """Open a session for the call (with `reuse`, an idle pooled one if there is one).

        Reuse and the limits (per profile, per agent client) are the session manager's; at a
        limit, a pooled open waits up to ``room_wait_s`` for an idle exec session to close.
        """
        profile, asset, account = await self._targets.resolve(ctx.identity, params)
        # A reused session is always a pooled one (exec's by default), never a person's shell.
        purpose = params.get("purpose") or ("exec" if params.get("reuse") else "shell")
        request = OpenRequest(
            profile=profile,
            asset=asset.name,
            account=account.name,
            owner=ctx.identity.owner,
            asset_id=asset.id,
            account_alias=account.alias,
            cols=params.get("cols", 120),
            rows=params.get("rows", 40),
            name=params.get("name"),
            record_path=self._recording_path(),
            purpose=purpose,
        )
        if params.get("reuse"):
            # Only the pool's own sessions (exec's, or this agent's), and only one idle at its
            # prompt: never a person's shell, an attached one, or one a program holds.
            session_id, new = await self._sessions.open_pooled(request, room_wait_s=room_wait_s)
            if not new:
                return session_id
        else:
            session_id = (await self._sessions.open(request)).id
        self._audit.record(
            ctx.identity,
            "session.open",
            session=session_id,
            asset=asset.name,
            account=account.name,
            profile=profile,
        )
        self._audit.watch_session(ctx.identity.name, self._sessions, session_id)
        return session_id

    async def run_session(self, ctx: CallContext, params: dict[str, Any]) -> str:
        """Where a run goes: the named `session`, or a pooled one on the `asset`."""
        if params.get("session"):
            return self.writable(ctx, params["session"])
        if params.get("asset"):
            purpose = "agent" if params.get("keep_state") else "exec"
            return await self.open(ctx, {**params, "reuse": True, "purpose": purpose})
        raise RpcError(ErrorCode.BAD_PARAMS, "say where to run: a `session`, or an `asset`")
