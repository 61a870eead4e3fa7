"""The method table is the one declaration: tool groups, retry safety and handlers come from it."""

from __future__ import annotations

import pytest

from jsctl_clients.mcp._tools import HINTS, TOOLS
from jsctl_daemon import handlers
from jsctl_daemon.policy import TOOL_METHODS as POLICY_TOOLS
from jsctl_daemon.rpc import HANDLERS, Registry
from jsctl_protocol import METHODS, TOOL_METHODS, Permission


def test_the_policy_and_the_mcp_tools_use_the_tool_groups_the_rows_declare() -> None:
    assert POLICY_TOOLS is TOOL_METHODS
    assert {tool.name for tool in TOOLS} == set(TOOL_METHODS) == set(HINTS)
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
