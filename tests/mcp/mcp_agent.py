"""A real MCP client (the SDK's stdio client) driving a real `jsctl mcp` process, for tests."""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsctl_testing import JSCTL, DaemonProcess
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

_FIELD = re.compile(r'(\w+)=("[^"]*"|\S+)')


def header_fields(text: str) -> dict[str, str]:
    """The ``key=value`` pairs of the first bracketed line of a tool result."""
    for line in text.splitlines():
        if line.startswith("[") and "=" in line:
            return {k: v.strip('"') for k, v in _FIELD.findall(line.strip("[]"))}
    return {}


@dataclass
class ToolResult:
    """One tool call's answer."""

    text: str
    is_error: bool

    @property
    def fields(self) -> dict[str, str]:
        return header_fields(self.text)

    @property
    def output(self) -> str:
        """The text between the header line and the bracketed footer lines."""
        lines = self.text.splitlines()
        if lines and lines[0].startswith("[") and "=" in lines[0]:
            lines = lines[1:]
        while lines and lines[-1].startswith("[") and lines[-1].endswith("]"):
            lines.pop()
        return "\n".join(lines)

    @property
    def page(self) -> str:
        """The page exactly as the tool gave it (header and footer lines taken off)."""
        _, _, rest = self.text.partition("\n")
        if re.search(r"\n\[[^\n]*\]$", rest):
            rest = rest[: rest.rfind("\n[")]
        return "" if rest == "(no output)" else rest

    def more(self) -> tuple[str, int] | None:
        """(id, offset) from a `read id=X offset=N` footer, if the result has one."""
        match = re.search(r"read id=(\S+) offset=(\d+)", self.text)
        return (match.group(1), int(match.group(2))) if match else None


@dataclass
class Agent:
    """An initialised MCP client session to a `jsctl mcp` shim, keeping every result it saw."""

    session: ClientSession
    seen: list[str] = field(default_factory=list)

    async def call(self, tool: str, **arguments: Any) -> ToolResult:
        result = await self.session.call_tool(tool, arguments)
        text = "\n".join(getattr(block, "text", "") for block in result.content)
        self.seen.append(text)
        return ToolResult(text, bool(result.is_error))

    async def read_all(self, ref: str, offset: int | None = None, **extra: Any) -> str:
        """Read a run or session page by page until no more is announced; the joined text."""
        texts = []
        arguments: dict[str, Any] = dict(extra)
        if offset is not None:
            arguments["offset"] = offset
        while True:
            result = await self.call("read", id=ref, **arguments)
            assert not result.is_error, result.text
            texts.append(result.page)
            more = result.more()
            if more is None:
                return "".join(texts)
            arguments = {**extra, "offset": more[1]}


def shim_args(token_file: Path | None, *extra: str) -> list[str]:
    """`jsctl mcp` arguments (as the config `jsctl mcp install` writes would give)."""
    args = [*JSCTL[1:], "mcp"]
    if token_file is not None:
        args += ["--token-file", str(token_file)]
    return [*args, *extra]


@asynccontextmanager
async def connect_agent(
    daemon: DaemonProcess,
    token_file: Path | None,
    *extra: str,
    stderr_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Agent]:
    """Spawn `jsctl mcp` as an agent would, initialise, and yield an Agent."""
    params = StdioServerParameters(
        command=sys.executable,
        args=shim_args(token_file, *extra),
        env={**daemon.env, **(env or {})},
    )
    errlog_path = stderr_path or daemon.home / "shim-stderr.log"
    with open(errlog_path, "a") as errlog:  # noqa: ASYNC230 - the SDK wants a real file
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Agent(session)


def create_client(daemon: DaemonProcess, name: str, *args: str) -> Path:
    """Create a client identity through the real CLI; returns its 0600 token file."""
    token_file = daemon.home / f"{name}.token"
    result = daemon.cli("client", "create", name, *args, "--token-file", str(token_file))
    assert result.returncode == 0, result.stderr
    return token_file


@asynccontextmanager
async def new_agent(daemon: DaemonProcess, name: str, *client_args: str) -> AsyncIterator[Agent]:
    """A new client identity (`jsctl client create NAME ARGS...`) and an agent connected as it."""
    async with connect_agent(daemon, create_client(daemon, name, *client_args)) as agent:
        yield agent
