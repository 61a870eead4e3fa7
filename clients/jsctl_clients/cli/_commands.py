"""The `jsctl` command index, derived: the method table's `cli=` declarations plus the few
commands that are not daemon methods (declared here, and only here).

Built only when the kept copy is stale (see `.._views`): `jsctl ping` never imports this.
"""

from __future__ import annotations

from jsctl_protocol._table import Cli

# Commands of the client alone: they call no daemon method of their own (or many: `daemon`).
CLIENT_COMMANDS: tuple[Cli, ...] = (
    Cli("paths", "daemon_cmds", "Show socket, state, config and log locations."),
    Cli("daemon", "daemon_cmds", "Start, stop, restart or inspect the daemon."),
    Cli("mcp", "mcp_cmds", "Serve jsctl to a coding agent over MCP (`mcp install`)."),
    Cli("sandbox", "sandbox_cmds", "Run the bundled JumpServer-compatible sandbox."),
    Cli("demo", "demo_cmds", "See jsctl work end to end against the sandbox."),
    Cli("completion", "completion_cmds", "Print the shell completion script."),
)

# name -> (module under jsctl_clients.cli, attribute, one-line help)
Index = dict[str, tuple[str, str, str]]


def build_commands() -> Index:
    """Every `jsctl` command; ValueError if a name is declared twice."""
    from jsctl_protocol import METHODS

    declared: list[tuple[Cli, str]] = [(cli, "the client's own list") for cli in CLIENT_COMMANDS]
    for row in METHODS.values():
        declared += [(cli, f"row `{row.name}`") for cli in row.cli]
    index: Index = {}
    where: dict[str, str] = {}
    for cli, origin in declared:
        if cli.name in index:
            raise ValueError(f"`jsctl {cli.name}` is declared twice: {where[cli.name]}, {origin}")
        help_ = cli.help or next(row.doc for row in METHODS.values() if cli in row.cli)
        index[cli.name] = (cli.module, cli.attribute, help_)
        where[cli.name] = origin
    return dict(sorted(index.items()))
