"""How sessions, runs and reads look on the wire (plain maps for msgpack)."""

from __future__ import annotations

import time
from typing import Any

from .sessions import ReadResult, RunInfo, SessionInfo, SessionLimits


def session_to_wire(info: SessionInfo) -> dict[str, Any]:
    """A session as listings and replies show it."""
    return {
        "id": info.id,
        "name": info.name,
        "owner": info.owner,
        "profile": info.profile,
        "asset": info.asset,
        "asset_id": info.asset_id,
        "account": info.account,
        "state": info.state.value,
        "reason": info.reason,
        "exit_status": info.exit_status,
        "created_at": info.created_at,
        "last_activity_at": info.last_activity_at,
        "cols": info.cols,
        "rows": info.rows,
        "start_offset": info.start_offset,
        "end_offset": info.end_offset,
        "buffer_bytes": info.buffer_bytes,
        "attachments": [
            {"id": a.id, "client": a.client, "read_only": a.read_only, "since": a.attached_at}
            for a in info.attachments
        ],
        "current_run": info.current_run,
        "idle_timeout_s": info.idle_timeout_s,
        "recording": info.recording,
        "purpose": info.purpose,
        "paused": bool(info.transport_info.get("paused")),
        "paused_by": info.transport_info.get("paused_by"),
        "server_idle_timeout_s": info.server_idle_timeout_s,
        "server_idle_at": _server_idle_at(info),
        "server_idle_known": info.server_idle_known,
        "server_idle_warning": server_idle_warning(info),
    }


def _server_idle_at(info: SessionInfo) -> float | None:
    """When KoKo will end the session for idleness if nothing moves (live sessions only)."""
    if info.state.ended or info.server_idle_timeout_s is None or info.server_active_at is None:
        return None
    return info.server_active_at + info.server_idle_timeout_s


def server_idle_warning(info: SessionInfo, now: float | None = None) -> str | None:
    """The warning to show when KoKo's idle cut-off is near (``server_idle_warning_s``)."""
    at = _server_idle_at(info)
    if at is None:
        return None
    left = at - (time.time() if now is None else now)
    if left >= info.server_idle_warning_s:
        return None
    return (
        f"KoKo ends this session for idleness in ~{max(0, round(left))} s unless something is "
        "typed, printed or resized (the server's SECURITY_MAX_IDLE_TIME; reading or attaching "
        "does not count)"
    )


def limits_to_wire(limits: SessionLimits) -> dict[str, Any]:
    """The limits that apply to sessions."""
    return {
        "max_per_profile": limits.max_per_profile,
        "max_per_owner": limits.max_per_owner,
        "idle_timeout_s": limits.idle_timeout_s,
        "server_idle_timeout_s": limits.server_idle_timeout_s,
        "buffer_bytes": limits.buffer_bytes,
    }


def run_to_wire(info: RunInfo) -> dict[str, Any]:
    """A run handle and its state."""
    return {
        "handle": info.id,
        "session": info.session_id,
        "owner": info.owner,
        "command": info.command,
        "request_id": info.request_id,
        "state": info.state.value,
        "exit_status": info.exit_status,
        "output_offset": info.output_offset,
        "readable_end": info.readable_end,
        "started_at": info.started_at,
        "ended_at": info.ended_at,
        "note": info.note,
        "prompt": info.prompt,
        "prompt_kind": info.prompt_kind,
        "shell_ended": info.shell_ended,
    }


def read_to_wire(result: ReadResult, offset: int) -> dict[str, Any]:
    """Bytes read from ``offset``, where to go on, and how many were missed."""
    return {
        "data": result.data,
        "offset": offset,
        "next_offset": result.next_offset,
        "missed": result.missed,
    }
