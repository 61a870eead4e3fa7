"""The session tools an agent drives by hand (input, interrupt, screen, sessions, close), and
the helpers every tool shares: the daemon link, read memory and a session's details."""

from __future__ import annotations

import time
from typing import Any

from jsctl_protocol import FLEET_HANDLE_PREFIX

from ._consent import identity_field
from ._link import DaemonLink
from ._memory import ReadMemory
from ._pages import fields
from ._tools import KEY_BYTES

DEFAULT_INPUT_WAIT_S = 1.0
SETTLE_S = 0.3  # after input, output that pauses this long is taken as complete for now


def _server_idle_in(info: dict[str, Any]) -> str | None:
    """How long until KoKo ends the session for idleness (its own limit, not jsctl's)."""
    at = info.get("server_idle_at")
    return None if at is None else f"{max(0, round(at - time.time()))}s"


class SessionTools:
    """Base of ``Tools``: what its tools share, and the tools that act on one session."""

    _link: DaemonLink
    _memory: ReadMemory
    _page_chars: int

    def _call(self, method: str, **params: Any) -> Any:
        return self._link.call(method, **params)

    def _chars(self, arguments: dict[str, Any]) -> int:
        return int(arguments.get("max_chars") or self._page_chars)

    def _session_info(self, ref: str) -> dict[str, Any]:
        info: dict[str, Any] = self._call("session.get", session=ref)["session"]
        return info

    def _remember_session(self, session: dict[str, Any], offset: int) -> None:
        self._memory.advance(
            session["id"],
            offset,
            kind="session",
            asset=session.get("asset"),
            account=session.get("account"),
        )

    def _session_page(self, session: dict[str, Any], reply: dict[str, Any]) -> str:
        raise NotImplementedError  # Tools pages output the way `read` does

    def input(self, arguments: dict[str, Any]) -> str:
        """Type into a session and return the output that follows (until it settles)."""
        seq = arguments.get("seq")
        if seq and (arguments.get("text") or arguments.get("keys")):
            return "give either seq (in order) or text and keys, not both"
        session = self._session_info(arguments["session"])
        if seq:
            data = b"".join(
                item[5:].encode() if item.startswith("text:") else KEY_BYTES[item] for item in seq
            )
        else:
            data = (arguments.get("text") or "").encode()
            data += b"".join(KEY_BYTES[key] for key in arguments.get("keys") or [])
        if not data:
            return "nothing to type: give text and/or keys, or seq"
        before = int(session["end_offset"])
        self._call("session.write", session=session["id"], data=data)
        wait = arguments.get("wait")
        reply = self._collect(
            session["id"], before, DEFAULT_INPUT_WAIT_S if wait is None else float(wait)
        )
        return self._session_page(session, reply)

    def _collect(self, session_id: str, offset: int, wait: float) -> dict[str, Any]:
        """Wait for output after ``offset`` until it pauses for SETTLE_S or ``wait`` runs out."""
        deadline = time.monotonic() + wait
        end = offset
        reply: dict[str, Any] = {}
        while True:
            remaining = deadline - time.monotonic()
            step = remaining if end == offset else min(SETTLE_S, remaining)
            reply = self._call(
                "session.read", session=session_id, offset=end, max_bytes=0, wait=max(0, step)
            )
            grew = int(reply["end_offset"]) > end
            end = int(reply["end_offset"])
            if not grew or remaining <= 0 or reply.get("state") not in ("live", "starting"):
                break
        return dict(
            self._call(
                "session.read", session=session_id, offset=offset, max_bytes=self._page_chars
            )
        )

    def interrupt(self, arguments: dict[str, Any]) -> str:
        """Ctrl-C a run, a fleet's runs or a session's foreground, then say how it ended."""
        fleet = arguments["id"]
        if fleet.startswith(FLEET_HANDLE_PREFIX):
            hit = self._call("fleet.interrupt", handle=fleet)["interrupted"]
            return f"[Ctrl-C sent to {', '.join(hit) or 'no running asset'}; read id={fleet}]"
        reply = self._call("run.interrupt", target=arguments["id"])
        run = reply.get("run")
        if run is None:
            return f"[Ctrl-C sent to session {arguments['id']}; no run was active]"
        if run["state"] == "running":
            run = self._call("run.wait", handle=run["handle"], timeout=3.0)["run"]
        return (
            fields(
                run=run["handle"],
                session=run["session"],
                state=run["state"],
                exit=run.get("exit_status"),
            )
            + f"\n[Ctrl-C sent; read id={run['handle']} for its last output]"
        )

    def screen(self, arguments: dict[str, Any]) -> str:
        """The session's screen now."""
        reply = self._call("session.screen", session=arguments["session"])
        cursor = reply.get("cursor") or [0, 0]
        header = fields(
            session=reply.get("session"),
            size=f"{reply.get('cols')}x{reply.get('rows')}",
            cursor=f"{cursor[0]},{cursor[1]}",
            offset=reply.get("offset"),
        )
        return header + "\n" + str(reply.get("text", "")).rstrip("\n")

    def sessions(self, arguments: dict[str, Any]) -> str:
        """This client's sessions with their runs and how much is unread."""
        reply = self._call("session.list", all=True)
        rows = [
            fields(
                session=lost["id"],
                name=lost.get("name"),
                asset=lost.get("asset"),
                account=lost.get("account"),
                state="lost",
                reason=f'"{lost.get("reason")}"',
                run=(lost.get("run") or {}).get("handle"),
            )
            for lost in reply.get("lost") or []  # with an earlier daemon: output gone
        ]
        for info in reply["sessions"]:
            read_to = self._memory.offset(info["id"])
            start, end = int(info["start_offset"]), int(info["end_offset"])
            unread = end - max(start, read_to if read_to is not None else start)
            rows.append(
                fields(
                    session=info["id"],
                    name=info.get("name"),
                    asset=info.get("asset"),
                    account=info.get("account"),
                    identity=identity_field(info),
                    state=info["state"],
                    reason=f'"{info["reason"]}"' if info.get("reason") else None,
                    paused=f'"by {info.get("paused_by") or "an administrator"}: input is dropped"'
                    if info.get("paused")
                    else None,
                    server_idle_in=_server_idle_in(info),
                    idle_warning=f'"{info["server_idle_warning"]}"'
                    if info.get("server_idle_warning")
                    else None,
                    run=info.get("current_run"),
                    read_to=read_to,
                    unread=f"{unread}B",
                )
            )
        if not rows:
            return "no sessions: use run with an asset to open one"
        return "\n".join(rows) + "\n[read id=SESSION continues where you stopped]"

    def close(self, arguments: dict[str, Any]) -> str:
        """End a session."""
        reply = self._call("session.kill", sessions=[arguments["session"]])
        killed = reply.get("killed", [])
        self._memory.forget([info["id"] for info in killed])
        return "\n".join(
            fields(session=info["id"], asset=info.get("asset"), state=info["state"])
            for info in killed
        )
