"""Injected HTTP faults (5xx, garbage bodies, slow answers) for client resilience tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import trio
from starlette.types import ASGIApp, Receive, Scope, Send

FAULT_KINDS = ("status", "garbage", "slow")


@dataclass
class Fault:
    """Requests under ``path`` misbehave ``times`` times (None = until cleared)."""

    path: str
    kind: str
    status: int = 503
    delay: float = 0.0
    times: int | None = None
    method: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the control API."""
        return dict(self.__dict__)


class FaultTable:
    """Active faults, first match wins."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Install a fault rule."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; use one of {FAULT_KINDS}")
        self.faults.append(fault)

    def clear(self) -> None:
        """Remove every fault rule."""
        self.faults.clear()

    def take(self, path: str, method: str) -> Fault | None:
        """The fault that applies to this request (consuming one of its uses)."""
        for fault in self.faults:
            if not path.startswith(fault.path):
                continue
            if fault.method and fault.method.upper() != method:
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None


class FaultMiddleware:
    """ASGI middleware applying the table before the app sees a request."""

    def __init__(self, app: ASGIApp, table: FaultTable) -> None:
        self.app = app
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or misbehave as a matching fault says."""
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        fault = self.table.take(scope["path"], scope["method"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if fault.kind == "slow":
            await trio.sleep(fault.delay)
            await self.app(scope, receive, send)
            return
        if fault.kind == "status":
            status = fault.status
            body = f"<html><body><h1>{status} Server Error</h1></body></html>\n".encode()
            ctype = b"text/html"
        else:
            status, body, ctype = 200, os.urandom(64) + b"\x00{not json", b"application/json"
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
