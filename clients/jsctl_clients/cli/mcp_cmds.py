"""`jsctl mcp [install]`: serve jsctl to a coding agent over MCP, and set an agent up for it."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import click

from ._app import fail, json_option, runtime
from .agent_cmds import (
    _accounts_option,
    _allow_option,
    _confirm_option,
    _expires_option,
    _say_confirm,
    _tools_option,
    create_client,
)


def read_token(token_file: Path | None) -> str | None:
    """The client token from ``token_file`` or $JSCTL_CLIENT_TOKEN (never from argv)."""
    if token_file is not None:
        try:
            info = token_file.stat()
            text = token_file.read_text().strip()
        except OSError as exc:
            fail(f"cannot read the token file {token_file}: {exc.strerror}")
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            click.echo(
                f"jsctl mcp: warning: {token_file} is readable by others; chmod 600 it", err=True
            )
        if not text:
            fail(f"the token file {token_file} is empty")
        return text
    return os.environ.get("JSCTL_CLIENT_TOKEN") or None


@click.group(invoke_without_command=True)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File holding this agent's client token (else $JSCTL_CLIENT_TOKEN).",
)
@click.option(
    "--page-chars",
    type=click.IntRange(200, 100000),
    default=8000,
    show_default=True,
    help="Characters of output per tool result; the rest is read by offset.",
)
@click.option(
    "--unscoped",
    is_flag=True,
    help="Serve without a client token, with your own full access (not for agents you share).",
)
@click.pass_context
def mcp(ctx: click.Context, token_file: Path | None, page_chars: int, unscoped: bool) -> None:
    """Serve jsctl to a coding agent over MCP (stdio); `jsctl mcp install` sets an agent up.

    The agent acts as a client identity: its token comes from --token-file or
    $JSCTL_CLIENT_TOKEN, and the daemon enforces that client's allow-list on every call.
    """
    if ctx.invoked_subcommand is not None:
        return
    token = read_token(token_file)
    if token is None and not unscoped:
        fail(
            "jsctl mcp needs a client token: set one up with `jsctl mcp install codex|claude "
            "--allow PATTERN`, or pass --token-file FILE (or $JSCTL_CLIENT_TOKEN)"
        )
    if sys.stdin.isatty():
        click.echo("jsctl mcp: serving MCP on stdin/stdout (an agent starts this)", err=True)
    from ..mcp import serve

    serve(token, page_chars, runtime().paths)


@mcp.command("install")
@click.argument("agent", type=click.Choice(["codex", "claude"]))
@click.option("--client", "client_name", help="Client identity to create (default: the agent).")
@_allow_option
@_accounts_option
@_tools_option
@_confirm_option
@_expires_option
@click.option("--name", "server_name", default="jsctl", show_default=True, help="MCP server name.")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file to add the server to (default: ~/.codex/config.toml or ./.mcp.json).",
)
@click.option("--print", "print_only", is_flag=True, help="Only print the config block.")
@json_option
def mcp_install(
    agent: str,
    client_name: str | None,
    allow: tuple[str, ...],
    accounts: tuple[str, ...],
    tools: str | None,
    confirm: tuple[str, ...],
    expires: str | None,
    server_name: str,
    config: Path | None,
    print_only: bool,
) -> None:
    """Create a client identity for AGENT, store its token (0600) and add jsctl to its config."""
    from ..mcp import install

    rt = runtime()
    name = client_name or agent
    config = config or install.default_config(agent)
    try:
        if not print_only:
            install.check_free(agent, config, server_name)  # before anything is created
        reply = create_client(name, allow, accounts, tools, expires, confirm)
        token_file = install.token_path(rt.paths, name)
        install.write_token(token_file, reply.pop("token"))
        launch = install.launch_for(rt.paths, token_file)
        if not print_only:
            install.write_config(agent, config, server_name, launch)
    except install.InstallError as exc:
        fail(str(exc))
    if agent == "codex":
        block = install.codex_block(server_name, launch)
    else:
        import json

        block = json.dumps({"mcpServers": {server_name: install.claude_entry(launch)}}, indent=2)
    result = {
        "client": reply["client"],
        "token_file": str(token_file),
        "config": None if print_only else str(config),
        "block": block,
    }
    if agent == "claude":
        result["claude_command"] = install.claude_command(server_name, launch)

    def show(data: dict[str, Any]) -> None:
        click.echo(f"Created client {name}; its token is in {data['token_file']} (0600).")
        _say_confirm(data["client"])
        if data["config"]:
            click.echo(f"Added MCP server `{server_name}` to {data['config']}:")
        else:
            click.echo(f"Add this to {config}:")
        click.echo(data["block"].rstrip("\n"))
        if agent == "claude":
            click.echo("For every project of yours instead, run:")
            click.echo(data["claude_command"])
        click.echo(
            "Restart the agent to load it. `jsctl audit --client " + name + "` shows its actions."
        )

    rt.emit(result, show)


# --- audit
