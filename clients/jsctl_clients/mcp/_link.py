"""The shim's link to the daemon: one short connection per call, restarts noticed and explained.

A connection per tool call costs one connect and `hello` (well under a millisecond), and means a
daemon that restarted between calls is simply met again: there is no pooled socket to go stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from jsctl_paths import Paths
from jsctl_protocol import METHODS

from ..rpc import DaemonClient, DaemonUnreachable

CLIENT_NAME = "jsctl-mcp/0.1.0"


class DaemonLost(Exception):
    """The daemon went away during a call whose effect is unknown (not retried)."""


class DaemonLink:
    """Calls daemon methods as this client; notices when the daemon restarted under us."""

    def __init__(
        self,
        paths: Paths,
        token: str | None,
        on_new_daemon: Callable[[int | None, dict[str, Any]], None] | None = None,
    ) -> None:
        self._paths = paths
        self._token = token
        self.on_new_daemon = on_new_daemon
        self._lock = threading.Lock()
        self.daemon_pid: int | None = None

    def _connect(self) -> DaemonClient:
        client = DaemonClient.connect(
            self._paths, autostart=True, token=self._token, client_name=CLIENT_NAME
        )
        pid = client.hello.get("pid")
        with self._lock:  # held through the callback: the first connections may race
            previous, self.daemon_pid = self.daemon_pid, pid
            if previous != pid and self.on_new_daemon is not None:
                self.on_new_daemon(previous, client.hello)
        return client

    def call(self, method: str, **params: Any) -> Any:
        """Call ``method`` (blocking); a call the table says is retry-safe is retried once on a
        fresh daemon."""
        row = METHODS.get(method)
        attempts = 2 if row is not None and row.retry_safe else 1
        for attempt in range(attempts):
            client = self._connect()
            try:
                return client.call(method, **params)
            except DaemonUnreachable:
                if attempt + 1 < attempts:
                    continue
                self._connect().close()  # start a fresh daemon now, so the restart is noticed
                raise DaemonLost(
                    f"the jsctl daemon stopped during `{method}`; it has been started again"
                ) from None
            finally:
                client.close()
        raise AssertionError("unreachable")  # pragma: no cover
