"""An agent runs one command on many assets through `run`, in one call, within its allow-list."""

from __future__ import annotations

from jsctl_fixtures import LoggedIn
from mcp_agent import connect_agent, create_client

DOWN_ON_WEB_02 = 'if [ "$HOSTNAME" = web-02 ]; then echo down; (exit 1); else echo up; fi'
TOOL_LIST_TOKENS = 1000  # the tool list's budget in an agent's context (bytes / 4)


async def test_run_on_a_glob_answers_grouped_failures_first_with_read_handles(
    shared_login: LoggedIn,
) -> None:
    token = create_client(shared_login.daemon, "fleet-mcp", "--allow", "web-*")
    async with connect_agent(shared_login.daemon, token) as agent:
        listed = await agent.session.list_tools()
        size = len(listed.model_dump_json(by_alias=True, exclude_none=True))
        assert size / 4 <= TOOL_LIST_TOKENS  # the selector did not grow the tools past budget
        result = await agent.call("run", asset="*", command=DOWN_ON_WEB_02)
        assert not result.is_error, result.text
        lines = result.text.splitlines()
        fleet = result.fields["fleet"]
        assert fleet.startswith("fleet-") and result.fields["state"] == "done"
        assert lines[1] == "2 assets: 1 ok, 1 failed, 0 unreachable"  # db-01 is not allowed
        assert lines[2].startswith("== 1 asset: exit 1 — web-02=") and lines[3] == "down"
        assert lines[4] == "== 1 asset: exit 0 — web-01" and lines[5] == "up"
        handle = lines[2].rsplit("=", 1)[-1]
        by_handle = await agent.call("read", id=handle)
        by_name = await agent.call("read", id=f"{fleet}/web-02", offset=0)
        assert by_handle.output == by_name.output == "down"
        again = await agent.call("read", id=fleet)
        assert again.text.splitlines()[1:] == lines[1:]
        by_node = await agent.call("run", node="/Default/web", command="echo same")
        assert "== 2 assets: exit 0 — web-01, web-02\nsame" in by_node.text
        hidden = await agent.call("run", asset="db-*", command="true")
        assert hidden.is_error and "db-01" not in hidden.text
        mixed = await agent.call("run", asset="web-*", session="x", command="true")
        assert mixed.is_error or "take one asset" in mixed.text
