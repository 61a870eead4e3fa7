"""The stdio MCP server: tools/list from the table in ``_tools``, tools/call run in threads.

stdout carries only MCP frames (the SDK's stdio transport diverts fd 1 to stderr while it
serves); logs go to stderr. Built on the SDK's low-level server, whose hand-written schemas stay
tighter than generated ones.
"""

from __future__ import annotations

import functools
import logging
import sys
from typing import Any

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from jsctl_paths import Paths

from ._handlers import DEFAULT_PAGE_CHARS, Tools
from ._link import DaemonLink
from ._memory import ReadMemory
from ._tools import TOOLS, Hints

INSTRUCTIONS = (
    "Shell sessions on servers behind a JumpServer bastion, kept by the jsctl daemon across"
    " agent restarts. Results give the session, run state, exit status and `read id=.. offset=..`"
    " for more. Reuse a request_id when retrying a run."
)


def tool_list() -> list[types.Tool]:
    """The tools as MCP describes them."""
    return [
        types.Tool(
            name=spec.name,
            description=spec.description,
            input_schema=spec.input_schema(),
            annotations=_annotations(spec.hints),
        )
        for spec in TOOLS
    ]


def _annotations(hints: Hints) -> types.ToolAnnotations:
    return types.ToolAnnotations(
        title=hints.title,
        read_only_hint=hints.read_only,
        destructive_hint=hints.destructive,
        idempotent_hint=hints.idempotent,
        open_world_hint=hints.open_world,
    )


def build_server(tools: Tools) -> Server[Any]:
    """The MCP server object serving ``tools``."""
    listed = types.ListToolsResult(tools=tool_list())

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listed

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        call = functools.partial(tools.call, params.name, dict(params.arguments or {}))
        text, failed = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        return types.CallToolResult(content=[types.TextContent(text=text)], is_error=failed)

    return Server(
        "jsctl",
        version="0.1.0",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(
    token: str | None, page_chars: int = DEFAULT_PAGE_CHARS, paths: Paths | None = None
) -> None:
    """Serve MCP on stdin/stdout until the agent closes stdin."""
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="jsctl mcp: %(levelname)s %(message)s"
    )
    paths = paths or Paths.from_env()
    link = DaemonLink(paths, token)
    tools = Tools(link, ReadMemory(paths.state_dir / "mcp"), page_chars, token)
    link.on_new_daemon = tools.daemon_met
    server = build_server(tools)

    async def main() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(main)
