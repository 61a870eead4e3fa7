"""The method table is the one declaration: tool groups, retry safety, handlers, the CLI's
commands, MCP annotations and completion's command list come from it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from jsctl_clients._completion_gen import build_spec
from jsctl_clients.cli import _commands
from jsctl_clients.cli._app import commands, jsctl
from jsctl_clients.completion import kept_spec
from jsctl_clients.mcp._tools import TOOLS
from jsctl_daemon import handlers
from jsctl_daemon.policy import TOOL_METHODS as POLICY_TOOLS
from jsctl_daemon.rpc import HANDLERS, Registry
from jsctl_protocol import METHODS, TOOL_METHODS, Permission
from jsctl_protocol._table import Cli


def test_the_policy_and_the_mcp_tools_use_the_tool_groups_the_rows_declare() -> None:
    assert POLICY_TOOLS is TOOL_METHODS
    assert {tool.name for tool in TOOLS} == set(TOOL_METHODS)
    for tool, names in TOOL_METHODS.items():
        assert names, tool
        for name in names:
            assert tool in METHODS[name].tools
    # An agent may never be given a method only the person's own front ends may call.
    for row in METHODS.values():
        if row.tools:
            assert row.permission is not Permission.HUMAN, row.name


def test_reads_are_retry_safe_and_changes_are_not_unless_the_row_says_so() -> None:
    for row in METHODS.values():
        if row.permission in (Permission.READ, Permission.PUBLIC):
            assert row.retry_safe, row.name
    for name in ("run.start", "session.write", "files.upload", "files.remove", "fleet.start"):
        assert not METHODS[name].retry_safe, name


def test_every_row_has_exactly_one_handler_and_a_second_registration_is_refused() -> None:
    handlers.load()
    for name in METHODS:
        HANDLERS.get(name)  # raises for a row without a handler
    with pytest.raises(ValueError, match="already has a handler"):
        HANDLERS.handler("complete")(HANDLERS.get("ping"))
    registry = Registry()

    async def first(ctx: object, params: object) -> object:
        return 1

    registry.handler("ping")(first)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one per method"):
        registry.handler("ping")(first)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        registry.handler("no.such.method")


def test_mcp_annotations_follow_from_the_rows_of_each_tool_group() -> None:
    for tool in TOOLS:
        rows = [METHODS[name] for name in TOOL_METHODS[tool.name]]
        reads = all(row.permission in (Permission.READ, Permission.PUBLIC) for row in rows)
        hints = tool.hints
        assert (hints.read_only, hints.destructive) == (reads, not reads), tool.name
        assert hints.idempotent == all(row.retry_safe for row in rows), tool.name
        assert hints.title and hints.title == tool.title
    by_name = {tool.name: tool.hints for tool in TOOLS}
    # What agents' clients saw before the annotations were derived (approval prompts depend on it).
    assert {name for name, hints in by_name.items() if hints.read_only} == {
        "find", "read", "screen", "sessions"
    }  # fmt: skip
    assert {name for name, hints in by_name.items() if hints.idempotent} == {
        "find", "read", "screen", "sessions", "close"
    }  # fmt: skip
    assert {name for name, hints in by_name.items() if not hints.open_world} == {
        "read", "screen", "sessions"
    }  # fmt: skip


def test_the_cli_commands_are_the_rows_declarations_plus_the_client_list() -> None:
    index = commands()
    assert index == _commands.build_commands()  # the kept index is not stale
    declared = [cli.name for row in METHODS.values() for cli in row.cli]
    client_only = [cli.name for cli in _commands.CLIENT_COMMANDS]
    assert sorted(index) == sorted(declared + client_only)
    ctx = click.Context(jsctl, info_name="jsctl")
    assert jsctl.list_commands(ctx) == sorted(index)
    for name, (_module, _attribute, help_) in index.items():
        command = jsctl.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert help_ and len(help_) <= 80, name
    assert index["ping"][2] == METHODS["ping"].doc  # a row's doc is the help unless it says


def test_a_command_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    twice = (*_commands.CLIENT_COMMANDS, Cli("exec", "session_cmds", "Again.", "exec_"))
    monkeypatch.setattr(_commands, "CLIENT_COMMANDS", twice)
    with pytest.raises(ValueError, match=r"`jsctl exec` is declared twice: .*run\.start"):
        _commands.build_commands()


def test_completion_offers_the_command_index_and_its_kept_spec_is_not_stale() -> None:
    spec = kept_spec()
    assert spec == build_spec()
    top = {name: help_ for name, (_m, _a, help_) in commands().items()}
    assert spec[""][0] == top


def test_rows_every_client_may_call_are_open_to_a_client_limited_to_one_tool(
    tmp_path: Path,
) -> None:
    from jsctl_daemon.policy import Policy, PolicyError

    policy = Policy(tmp_path)
    _record, token = policy.create("narrow", ["*"], None, ["screen"], None)
    identity = policy.identify(token)
    for row in METHODS.values():
        allowed = row.every_client or "screen" in row.tools
        if row.permission is Permission.HUMAN:
            assert not row.every_client, row.name
            allowed = False
        try:
            policy.authorize(identity, row)
        except PolicyError as exc:
            assert not allowed, f"{row.name}: {exc}"
        else:
            assert allowed, row.name
    assert {row.name for row in METHODS.values() if row.every_client} >= {"hello", "ping"}
