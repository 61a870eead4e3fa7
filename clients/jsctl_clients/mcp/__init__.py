"""`jsctl mcp`: an MCP stdio server that gives coding agents jsctl's durable sessions.

Importing this package is cheap; the MCP SDK is imported only by :mod:`.server` when serving.

The agent presents a client token (``--token-file`` or ``JSCTL_CLIENT_TOKEN``): the daemon then
enforces that client's allow-list on every call, attributes every action to it in the audit log,
and shows it only its own sessions. These are guard rails and attribution for agents, not a wall:
any process running as the same user can read the user's files and talk to the daemon's socket.
"""

from __future__ import annotations

from typing import Any

__all__ = ["serve"]


def serve(*args: Any, **kwargs: Any) -> None:
    """Serve MCP on stdio (see :func:`jsctl_clients.mcp.server.serve`)."""
    from .server import serve as _serve

    _serve(*args, **kwargs)
