"""An agent runs one command on many assets through `run`, in one call, within its allow-list."""

from __future__ import annotations

import json
import uuid

from jsctl_fixtures import LoggedIn, otp_command
from mcp_agent import new_agent

DOWN_ON_WEB_02 = 'if [ "$HOSTNAME" = web-02 ]; then echo down; (exit 1); else echo up; fi'
TOOL_LIST_TOKENS = 1000  # the tool list's budget in an agent's context (bytes / 4)


async def test_run_on_a_glob_answers_grouped_failures_first_with_read_handles(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "fleet-mcp", "--allow", "web-*") as agent:
        listed = await agent.session.list_tools()
        # Annotations are for the client's approval logic, not the model's context.
        size = len(
            listed.model_dump_json(
                by_alias=True, exclude_none=True, exclude={"tools": {"__all__": {"annotations"}}}
            )
        )
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
        slow = await agent.call("run", asset="web-*", command="sleep 30", wait=1)
        assert slow.fields["state"] == "running" and "2 still running" in slow.text
        stopped = await agent.call("interrupt", id=slow.fields["fleet"])
        assert stopped.text.startswith("[Ctrl-C sent to web-01, web-02;")
        ended = await agent.call("read", id=slow.fields["fleet"], wait=20)
        assert ended.fields["state"] == "interrupted" and "2 failed" in ended.text


async def test_a_confirm_rule_holds_each_asset_of_a_fleet_for_the_person(
    logged_in: LoggedIn,
) -> None:
    daemon = logged_in.daemon
    marker = f"$HOME/jsctl-fleet-held-{uuid.uuid4().hex[:8]}"  # each asset has its own home
    async with new_agent(
        daemon, "careful-fleet", "--allow", "web-*", "--confirm", "writes"
    ) as agent:
        held = await agent.call("run", asset="web-*", command=f"touch {marker}", wait=1)
        assert not held.is_error, held.text
        assert held.fields["state"] == "running" and "2 running" in held.text
        pending = json.loads(daemon.cli("approvals", "--json").stdout)["approvals"]
        assert sorted(a["asset"] for a in pending) == ["web-01", "web-02"]
        by_asset = {a["asset"]: a["id"] for a in pending}
        approve_01 = f"jsctl approve {by_asset['web-01']}"
        assert f"[web-01: held by rule `writes` until the person runs `{approve_01}`]" in held.text
        code = otp_command(logged_in.sandbox, logged_in.username)
        approved = daemon.cli("approve", by_asset["web-01"], "--otp-command", code)
        assert approved.returncode == 0, approved.stderr
        denied = daemon.cli("deny", by_asset["web-02"])
        assert denied.returncode == 0, denied.stderr
        done = await agent.call("read", id=held.fields["fleet"], wait=15)
    assert done.fields["state"] == "done", done.text
    assert "2 assets: 1 ok, 0 failed, 1 unreachable" in done.text
    assert "refused: " in done.text and "denied by" in done.text
    assert daemon.cli("exec", "web-01", "--", f"test -e {marker}").returncode == 0
    assert daemon.cli("exec", "web-02", "--", f"test -e {marker}").returncode == 1
