"""Advice in the daemon's messages is written for a person at the CLI; an agent reads it in terms
of its own tools, or as something to ask the person."""

from __future__ import annotations

import pytest
from jsctl_fixtures import LoggedIn
from mcp_agent import new_agent

from jsctl_clients.mcp._errors import for_agents


@pytest.mark.parametrize(
    ("daemon_says", "agent_reads"),
    [
        ("close one with `jsctl kill`, or", "close one with the `close` tool, or"),
        ("no session `x` — `jsctl sessions` lists them", "the `sessions` tool lists yours"),
        ("look with `jsctl screen s-1` first", "look with the `screen` tool first"),
        ("run `jsctl logs r-1` for all of it", "use the `read` tool for all of it"),
        ("(`jsctl files sessions`)", "(the `files` tool)"),
        (
            "expired — run `jsctl login --profile w`",
            "ask the person to run `jsctl login --profile w`",
        ),
        ("so ask the person to run `jsctl login`", "so ask the person to run `jsctl login`"),
        ("answer it with `jsctl secret s-1`", "answer it with `jsctl secret s-1`"),
        ("/srv is a directory; use -r to remove it", "set recursive=true to remove it"),
        ("/a/b already exists on the asset; use --force", "on the asset; set force=true"),
    ],
)
def test_cli_advice_is_reworded_for_agents(daemon_says: str, agent_reads: str) -> None:
    assert agent_reads in for_agents(daemon_says)


async def test_an_agent_at_its_session_limit_is_told_its_own_tools(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    daemon.restart_with_config("[daemon]\nmax_sessions_per_client = 1\n")
    async with new_agent(daemon, "thrifty", "--allow", "web-*") as agent:
        busy = await agent.call("run", asset="web-01", command="sleep 30", wait=1)
        assert busy.fields["state"] == "running", busy.text
        refused = await agent.call("run", asset="web-02", command="true")
        assert refused.is_error and "limit is 1" in refused.text, refused.text
        assert "`jsctl" not in refused.text, refused.text
        await agent.call("interrupt", id=busy.fields["session"])
