"""What each MCP tool does: a few daemon calls, and a compact text answer for the model.

Blocking code (the shim runs it in worker threads): each tool is a thin view of daemon methods.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

from jsctl_protocol import FLEET_HANDLE_PREFIX, ErrorCode, RpcError

from ..fleet_view import is_selector
from ._consent import (
    APPROVAL_ID,
    AWAITING,
    awaiting_text,
    decided_text,
    identity_field,
    secret_field,
    secret_note,
)
from ._errors import explain, redact
from ._files import FilesTool
from ._fleet import FleetTool
from ._link import DaemonLink
from ._memory import ReadMemory
from ._pages import Page, body, fields, make_page
from ._session_tools import SessionTools
from ._tools import BY_NAME

DEFAULT_PAGE_CHARS = 8000
DEFAULT_RUN_WAIT_S = 30.0
FIND_LIMIT = 50
_RUN_HANDLE = re.compile(r"^.+-\d+$")


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class Tools(SessionTools):
    """The nine tools, bound to one daemon link and one read memory."""

    def __init__(self, link: DaemonLink, memory: ReadMemory, page_chars: int, token: str | None):
        self._link = link
        self._memory = memory
        self._page_chars = page_chars
        self._secrets = (token,) if token else ()
        self._notices: list[str] = []
        self._notice_lock = threading.Lock()
        self._fleet = FleetTool(self._call)
        self._handlers: dict[str, Callable[[dict[str, Any]], str]] = {
            "find": self.find,
            "run": self.run,
            "read": self.read,
            "input": self.input,
            "interrupt": self.interrupt,
            "screen": self.screen,
            "sessions": self.sessions,
            "close": self.close,
            "files": FilesTool(self._call, page_chars),
        }

    # -- entry point ------------------------------------------------------------------------

    def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """Run tool ``name``; returns (text for the model, whether it is an error)."""
        spec = BY_NAME.get(name)
        if spec is None:
            return f"no tool `{name}`; the tools are {', '.join(BY_NAME)}", True
        problem = spec.check(arguments)
        if problem:
            return problem, True
        try:
            text, failed = self._handlers[name](arguments), False
        except RpcError as exc:
            held = exc.code == AWAITING and isinstance(exc.data, dict)
            text = awaiting_text(exc.data["approval"]) if held else explain(exc)
            failed = not held
        except Exception as exc:  # every failure becomes words for the agent
            text, failed = explain(exc), True
        with self._notice_lock:
            notices, self._notices = self._notices, []
        if notices:
            text = "\n".join([*notices, text])
        return redact(text, self._secrets), failed

    def daemon_met(self, previous: int | None, hello: dict[str, Any]) -> None:
        """Called by the link when it meets a daemon it did not talk to before."""
        self._memory.use_client(str((hello.get("identity") or {}).get("name", "human")))
        pid = int(hello.get("pid") or 0)
        lost = self._memory.daemon_changed(pid)
        if not lost and previous is None:
            return
        names = ", ".join(
            f"{entry['session']} ({entry.get('asset', '?')} as {entry.get('account', '?')})"
            for entry in lost
        )
        notice = f"[note: the jsctl daemon restarted (now pid {pid})"
        if names:
            notice += (
                f"; these sessions ended with it and their unread output is lost: {names}."
                " Use run with an asset to open new ones"
            )
        with self._notice_lock:
            self._notices.append(notice + "]")

    # -- helpers ----------------------------------------------------------------------------

    # -- tools ------------------------------------------------------------------------------

    def find(self, arguments: dict[str, Any]) -> str:
        """Assets (or one asset's accounts) this client may use."""
        asset = arguments.get("asset")
        if asset:
            reply = self._call("accounts.list", asset=asset)
            rows = [
                f"{a.get('name')}  (username {a.get('username') or '-'})"
                + ("  [virtual]" if a.get("is_virtual") else "")
                for a in reply.get("accounts", [])
            ]
            head = f"accounts on {reply.get('asset', {}).get('name', asset)}:"
            return "\n".join([head, *rows]) if rows else f"no account you may use on {asset}"
        reply = self._call("assets.list", pattern=arguments.get("pattern"), limit=FIND_LIMIT)
        assets = reply.get("assets", [])
        rows = [
            f"{a['name']}  {a.get('address', '')}  {a.get('platform', '')}  "
            f"{','.join(a.get('nodes') or [])}".rstrip()
            for a in assets
        ]
        total = reply.get("total", len(assets))
        if not rows:
            return "no asset matches (this client sees only the assets it is allowed)"
        if total > len(rows):
            rows.append(f"[{len(rows)} of {total} shown: narrow with pattern]")
        return "\n".join(rows)

    def run(self, arguments: dict[str, Any]) -> str:
        """Start a command (or find the run a request id already started) and page its output."""
        asset = arguments.get("asset") or ""
        if arguments.get("node") or is_selector(asset):
            if arguments.get("session") or arguments.get("request_id"):
                return "session and request_id take one asset: give one, or a glob/node alone"
            return self._fleet.run(arguments, self._chars(arguments))
        wait = arguments.get("wait")
        reply = self._call(
            "run.start",
            command=arguments["command"],
            session=arguments.get("session"),
            asset=arguments.get("asset"),
            account=arguments.get("account"),
            wait=DEFAULT_RUN_WAIT_S if wait is None else float(wait),
            request_id=arguments.get("request_id"),
            max_bytes=self._chars(arguments),
            keep_state=True,
        )
        if reply["state"] == AWAITING:
            return awaiting_text(reply["approval"])
        running = reply["state"] == "running"
        page = make_page(
            {"data": reply.get("output"), "next_offset": reply["next_offset"]},
            int(reply.get("readable_end", reply["next_offset"])),
            final=not running,
        )
        session = self._memory.session(reply["session"]) or self._session_info(reply["session"])
        self._remember_session(session, page.next_offset)
        self._memory.advance(reply["handle"], page.next_offset, kind="run")
        return self._run_text(session, reply, page, running)

    def _run_text(
        self, session: dict[str, Any], run: dict[str, Any], page: Page, running: bool
    ) -> str:
        prompt = run.get("prompt") if running and not run.get("waiting_secret") else None
        note = run.get("note")
        if prompt:
            note = (
                "the command waits for input: answer with input (text, then the Enter key),"
                " or stop it with interrupt"
            )
        if run.get("missed"):
            lost = f"the first {run['missed']}B of this run's output already left the buffer"
            note = f"{lost}; {note}" if note else lost
        header = fields(
            session=session["id"],
            asset=session.get("asset"),
            account=session.get("account"),
            run=run["handle"],
            identity=identity_field(run),
            state="waiting_secret"
            if run.get("waiting_secret")
            else ("waiting_input" if prompt else run["state"]),
            prompt=secret_field(run) or (_quoted(prompt) if prompt else None),
            exit=run.get("exit_status"),
            output=f"{page.end - run['output_offset']}B",
            shown=f"{page.next_offset - page.start}B",
            note=f'"{note}"' if note else None,
        )
        return (
            header
            + "\n"
            + secret_note(run, session["id"])
            + body(page, run["handle"], running=running)
        )

    def read(self, arguments: dict[str, Any]) -> str:
        """More output of a run or a session, from an offset or from where reading stopped."""
        ref = arguments["id"]
        if APPROVAL_ID.match(ref):
            return self._read_approval(ref, arguments)
        if ref.startswith(FLEET_HANDLE_PREFIX):
            if "/" not in ref:
                return self._fleet.read(ref, arguments, self._chars(arguments))
            ref = self._fleet.run_handle(ref)
        if _RUN_HANDLE.match(ref):
            try:
                return self._read_run(ref, arguments)
            except RpcError as exc:
                if exc.code != ErrorCode.NOT_FOUND:
                    raise
        return self._read_session(ref, arguments)

    def _read_approval(self, ref: str, arguments: dict[str, Any]) -> str:
        """A held call: its decision, then (an approved run) the run's output."""
        wait = arguments.get("wait")
        approval = self._call("approval.get", id=ref, wait=wait)["approval"]
        if approval.get("run"):
            return self._read_run(approval["run"], arguments)
        text, failed = decided_text(approval)
        if failed:  # refused, or approved but failing: the agent's result is an error
            code = ErrorCode.REMOTE if approval["state"] == "approved" else ErrorCode.FORBIDDEN
            raise RpcError(code, text)
        return text

    def _read_run(self, handle: str, arguments: dict[str, Any]) -> str:
        offset = arguments.get("offset")
        if offset is None:
            offset = self._memory.offset(handle)
        elif offset < 0:  # from the end: the run's output so far
            run = self._call("run.get", handle=handle)["run"]
            offset = max(int(run["output_offset"]), int(run["readable_end"]) + offset)
        reply = self._call(
            "run.read",
            handle=handle,
            offset=offset,
            max_bytes=self._chars(arguments),
            wait=arguments.get("wait"),
        )
        running = reply["state"] == "running"
        page = make_page(reply, int(reply["readable_end"]), final=not running)
        run = self._call("run.get", handle=handle)["run"]
        session = self._memory.session(run["session"]) or self._session_info(run["session"])
        self._memory.advance(handle, page.next_offset, kind="run")
        self._remember_session(session, page.next_offset)
        return self._run_text(session, run, page, running)

    def _read_session(self, ref: str, arguments: dict[str, Any]) -> str:
        session = self._session_info(ref)
        offset = arguments.get("offset")
        if offset is None:
            offset = self._memory.offset(session["id"])
        elif offset < 0:  # from the end of the session's output
            offset = max(int(session["start_offset"]), int(session["end_offset"]) + offset)
        reply = self._call(
            "session.read",
            session=session["id"],
            offset=offset,
            max_bytes=self._chars(arguments),
            wait=arguments.get("wait"),
        )
        return self._session_page(session, reply)

    def _session_page(self, session: dict[str, Any], reply: dict[str, Any]) -> str:
        live = reply.get("state") in ("live", "starting")
        page = make_page(reply, int(reply["end_offset"]), final=not live)
        self._remember_session(session, page.next_offset)
        header = fields(
            session=session["id"],
            asset=session.get("asset"),
            account=session.get("account"),
            identity=identity_field(reply),
            state="waiting_secret" if reply.get("waiting_secret") else reply.get("state"),
            prompt=secret_field(reply),
            reason=f'"{reply["reason"]}"' if reply.get("reason") else None,
            run=session.get("current_run"),
            offset=f"{page.start}-{page.next_offset}",
            end=page.end,
        )
        return (
            header
            + "\n"
            + secret_note(reply, session["id"])
            + body(page, session["id"], running=False)
        )
