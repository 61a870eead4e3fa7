"""What KoKo does to a live terminal on its own: end it at its limits, and run the core's tasks.

Read from KoKo v4.10.15 (``pkg/proxy/switch.go`` ``Bridge``, ``server.go`` ``Proxy``):

- A 30 s ticker checks, in this order, the session's maximum time
  (``SECURITY_MAX_SESSION_TIME``), idleness (``SECURITY_MAX_IDLE_TIME``, default 30 minutes:
  no input, output or resize since; PINGs and notices do not count) and a permission that
  expired more than 10 minutes ago. Each ends the session with a red notice, then CLOSE.
- The core's terminal tasks: ``kill_session`` ("Terminated by admin <name>"), ``lock_session``
  (pause: input is dropped, ``TERMINAL_SESSION_PAUSE`` ``{"user": name}``), ``unlock_session``
  (``TERMINAL_SESSION_RESUME``), ``perm_expired`` / ``perm_valid``
  (``TERMINAL_PERM_EXPIRED`` / ``TERMINAL_PERM_VALID`` with ``{"code","detail"}``).

The red notice is exactly ``"\\n\\r" + ESC[31m + text + "\\n\\r" + ESC[0m``
(``disconnection``, ``utils.WrapperWarn``). Times come from the backend's clock, so tests move
the sandbox clock instead of waiting half an hour.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from jsctl_sandbox.koko_contract import KokoBackend

__all__ = ["LIVE_TERMINALS", "TerminalTasks", "red_notice"]

Finish = Callable[[bytes], Awaitable[None]]
Notify = Callable[[str, str], Awaitable[None]]

TASKS = ("kill_session", "lock_session", "unlock_session", "perm_expired", "perm_valid")


def red_notice(text: str) -> bytes:
    """KoKo's disconnection notice bytes."""
    return f"\n\r\x1b[31m{text}\n\r\x1b[0m".encode()


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return str(round(minutes)) if math.isclose(minutes, round(minutes)) else f"{minutes:.2f}"


@dataclass
class TerminalTasks:
    """One bridged session's limits and task state (KoKo's ``SwitchSession``)."""

    session_id: str
    backend: KokoBackend
    finish: Finish
    notify: Notify
    started_at: float = 0.0
    last_active: float = 0.0
    paused: bool = False
    perm_invalid_since: float | None = None
    terminated_by: str | None = None
    _kill: trio.Event = field(default_factory=trio.Event)

    def __post_init__(self) -> None:
        self.started_at = self.last_active = self.backend.now()

    def active(self) -> None:
        """Input, output or a resize moved: the idle clock starts again."""
        self.last_active = self.backend.now()

    async def watch(self) -> None:
        """The ticker and the kill task; ends the session at the first limit or kill."""
        notice: list[str] = []
        async with trio.open_nursery() as nursery:

            async def tick() -> None:
                while (reached := self._limit_reached()) is None:  # noqa: ASYNC110 - a ticker
                    await trio.sleep(self.backend.settings.limits_tick_s)
                notice.append(reached)
                nursery.cancel_scope.cancel()

            async def killed() -> None:
                await self._kill.wait()
                notice.append(f"Terminated by admin {self.terminated_by}")
                nursery.cancel_scope.cancel()

            nursery.start_soon(tick)
            nursery.start_soon(killed)
        await self.finish(red_notice(notice[0]))

    def _limit_reached(self) -> str | None:
        settings, now = self.backend.settings, self.backend.now()
        if now >= self.started_at + settings.max_session_s:
            return "Session max time reached, disconnect"
        if now > self.last_active + settings.idle_timeout_s:
            minutes = _minutes(settings.idle_timeout_s)
            return f"Connect idle more than {minutes} minutes, disconnect"
        since = self.perm_invalid_since
        if since is not None and now > since + settings.perm_expired_grace_s:
            return "Permission has expired, disconnect"
        return None

    async def run_task(self, name: str, by: str) -> None:
        """One of the core's terminal tasks (``TASKS``)."""
        user = json.dumps({"user": by})
        if name == "kill_session":
            if self.terminated_by is None:
                self.terminated_by = by
            self._kill.set()
        elif name == "lock_session":
            self.paused = True
            await self.notify("TERMINAL_SESSION_PAUSE", user)
        elif name == "unlock_session":
            self.paused = False
            await self.notify("TERMINAL_SESSION_RESUME", user)
        elif name == "perm_expired" and self.perm_invalid_since is None:
            self.perm_invalid_since = self.backend.now()
            await self.notify("TERMINAL_PERM_EXPIRED", json.dumps({"code": name, "detail": ""}))
        elif name == "perm_valid" and self.perm_invalid_since is not None:
            self.perm_invalid_since = None
            await self.notify("TERMINAL_PERM_VALID", json.dumps({"code": name, "detail": ""}))
        elif name not in TASKS:
            raise ValueError(f"unknown terminal task {name!r} (one of {', '.join(TASKS)})")


# Live bridged sessions by their audit session id, for the control API (one sandbox process).
LIVE_TERMINALS: dict[str, TerminalTasks] = {}
