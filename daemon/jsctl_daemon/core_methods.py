"""Handlers for the daemon's own methods: hello, ping, status, shutdown."""

from __future__ import annotations

import os
import time
from typing import Any

from jsctl_protocol import PROTOCOL_VERSION

from . import __version__
from .caller import HUMAN
from .policy import Policy
from .rpc import HANDLERS, CallContext
from .services import DaemonControl


@HANDLERS.handler("hello")
async def hello(ctx: CallContext, params: dict[str, Any], *, policy: Policy) -> dict[str, Any]:
    """Establish who is calling (the connection checked the protocol version)."""
    token = params.get("token")
    ctx.connection.identity = HUMAN if token is None else policy.identify(token)
    ctx.connection.client_name = params.get("client", "")
    identity = ctx.connection.identity
    return {
        "protocol": PROTOCOL_VERSION,
        "daemon_version": __version__,
        "pid": os.getpid(),
        "identity": {"kind": identity.kind, "name": identity.name},
    }


@HANDLERS.handler("ping")
async def ping(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Answer at once."""
    return {"pong": True, "time": time.time()}


@HANDLERS.handler("daemon.status")
async def status(
    ctx: CallContext, params: dict[str, Any], *, control: DaemonControl
) -> dict[str, Any]:
    """The daemon's vital figures."""
    return control.status()


@HANDLERS.handler("daemon.shutdown")
async def shutdown(
    ctx: CallContext, params: dict[str, Any], *, control: DaemonControl
) -> dict[str, Any]:
    """Stop the daemon once this reply has been sent."""
    ctx.after_reply.append(control.request_shutdown)
    return {"ok": True}
