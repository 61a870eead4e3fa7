"""A real MCP client drives `jsctl mcp` against a real daemon logged in to the real sandbox."""

from __future__ import annotations

import re

import trio
from jsctl_fixtures import LoggedIn
from mcp_agent import connect_agent, create_client, new_agent

from jsctl_daemon.policy import TOOL_METHODS


async def test_tools_match_the_policy_table_and_have_tight_schemas(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "lister", "--allow", "web-*") as agent:
        listed = await agent.session.list_tools()
    assert {tool.name for tool in listed.tools} == set(TOOL_METHODS)
    for tool in listed.tools:
        assert tool.input_schema["additionalProperties"] is False
        assert len(tool.description or "") < 240


async def test_find_lists_only_allowed_assets_and_their_accounts(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "finder", "--allow", "web-*") as agent:
        listing = await agent.call("find")
        accounts = await agent.call("find", asset="web-01")
        hidden = await agent.call("find", asset="db-01")
        filtered = await agent.call("find", pattern="*02")
    assert not listing.is_error
    names = {line.split()[0] for line in listing.text.splitlines()}
    assert names == {"web-01", "web-02"}
    assert "deploy" in accounts.text
    assert hidden.is_error and "db-01" not in listing.text
    assert filtered.text.split()[0] == "web-02"


async def test_run_returns_status_and_long_output_reads_by_pages(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "pager", "--allow", "web-*") as agent:
        first = await agent.call("run", asset="web-01", command="seq 1 3000", max_chars=2000)
        assert not first.is_error, first.text
        fields = first.fields
        assert fields["state"] == "done" and fields["exit"] == "0"
        assert fields["session"] and fields["run"].startswith(fields["session"])
        assert fields["output"] == f"{sum(len(str(i)) + 2 for i in range(1, 3001))}B"
        assert len(first.output) <= 2000
        run, offset = first.more() or ("", 0)
        assert run == fields["run"]
        rest = await agent.read_all(run, offset, max_chars=5000)
        numbers = (first.page + rest).split()
        assert numbers == [str(i) for i in range(1, 3001)]  # nothing lost, nothing twice
        failing = await agent.call("run", session=fields["session"], command="false")
        assert failing.fields["exit"] == "1" and not failing.is_error


async def test_output_comes_without_ansi_or_carriage_returns(shared_login: LoggedIn) -> None:
    token = create_client(shared_login.daemon, "painter", "--allow", "web-*")
    command = r"printf '\033[1;31mred\033[0m plain\n10%%\r50%%\r100%%\n'"
    async with connect_agent(shared_login.daemon, token) as agent:
        result = await agent.call("run", asset="web-02", command=command)
    assert result.output.splitlines() == ["red plain", "100%"], result.text
    assert "\x1b" not in result.text and "\r" not in result.text


async def test_long_command_returns_a_handle_then_its_status(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "patient", "--allow", "web-*") as agent:
        started = await agent.call(
            "run", asset="web-01", command="echo begin; sleep 1.5; echo finished", wait=0.3
        )
        assert started.fields["state"] == "running", started.text
        assert "exit" not in started.fields
        assert f"read id={started.fields['run']}" in started.text
        # `read` returns at more output or the run's end (they can arrive apart under load).
        ended, later = started, ""
        for _ in range(5):
            ended = await agent.call("read", id=started.fields["run"], wait=15)
            later += ended.output
            if ended.fields["state"] != "running":
                break
    assert ended.fields["state"] == "done" and ended.fields["exit"] == "0", ended.text
    assert "finished" in later and "begin" not in later  # continues, no repeat


async def test_a_retried_request_id_never_runs_twice(shared_login: LoggedIn) -> None:
    token = create_client(shared_login.daemon, "retrier", "--allow", "web-*")
    command = "echo once >> retried.txt; wc -l < retried.txt"
    async with connect_agent(shared_login.daemon, token) as agent:
        first = await agent.call("run", asset="web-01", command="rm -f retried.txt")
        session = first.fields["session"]
        one = await agent.call("run", session=session, command=command, request_id="mig-1")
        two = await agent.call("run", session=session, command=command, request_id="mig-1")
        count = await agent.call("run", session=session, command="wc -l < retried.txt")
    assert one.fields["run"] == two.fields["run"]
    assert one.output.strip() == two.output.strip() == "1"
    assert count.output.strip() == "1"


async def test_interrupt_stops_a_sleep_and_the_session_goes_on(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "stopper", "--allow", "web-*") as agent:
        started = await agent.call("run", asset="web-02", command="sleep 300", wait=0.3)
        assert started.fields["state"] == "running"
        stopped = await agent.call("interrupt", id=started.fields["run"])
        assert not stopped.is_error, stopped.text
        assert stopped.fields["state"] in ("interrupted", "done"), stopped.text
        after = await agent.call("run", session=started.fields["session"], command="echo alive")
    assert after.output.strip() == "alive" and after.fields["exit"] == "0"


async def test_input_types_text_and_keys_and_screen_shows_it(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "typist", "--allow", "web-*") as agent:
        opened = await agent.call("run", asset="web-01", command="true")
        session = opened.fields["session"]
        typed = await agent.call(
            "input", session=session, text="echo $((6*7))", keys=["enter"], wait=5
        )
        assert "42" in typed.output, typed.text
        screen = await agent.call("screen", session=session)
        assert "42" in screen.text and screen.fields["size"] == "120x40"
        bad = await agent.call("input", session=session, keys=["hyper-x"])
        assert bad.is_error and "keys" in bad.text


async def test_sessions_survive_a_shim_restart_and_reading_resumes(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    token = create_client(daemon, "phoenix", "--allow", "web-*")
    tail = "for i in $(seq 1 40); do echo line$i; sleep 0.05; done"
    async with connect_agent(daemon, token) as agent:
        setup = await agent.call("run", asset="web-02", command="cd /tmp && export MARK=kept")
        session = setup.fields["session"]
        started = await agent.call("run", session=session, command=tail, wait=0.4)
        seen_before = started.output.split()
        assert started.fields["state"] == "running" and seen_before
    # the shim is gone (as when the agent restarts); a new one with the same token
    async with connect_agent(daemon, token) as agent:
        listing = await agent.call("sessions")
        assert session in listing.text and "web-02" in listing.text, listing.text
        row = next(line for line in listing.text.splitlines() if session in line)
        assert re.search(r"read_to=\d+", row)
        await trio.sleep(2.5)  # let the loop finish
        rest = await agent.call("read", id=started.fields["run"], wait=10)
        seen_after = rest.output.split()
        assert seen_before + seen_after == [f"line{i}" for i in range(1, 41)], rest.text
        same_shell = await agent.call("run", session=session, command="echo $MARK; pwd")
    assert same_shell.output.split() == ["kept", "/tmp"]


async def test_another_token_cannot_see_or_touch_the_sessions(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    owner = create_client(daemon, "owner", "--allow", "web-*")
    other = create_client(daemon, "stranger", "--allow", "*")
    async with connect_agent(daemon, owner) as agent:
        opened = await agent.call("run", asset="web-01", command="echo mine")
    session = opened.fields["session"]
    async with connect_agent(daemon, other) as agent:
        listing = await agent.call("sessions")
        peek = await agent.call("read", id=session)
        close = await agent.call("close", session=session)
        run_in = await agent.call("run", session=session, command="id")
    assert session not in listing.text
    for refused in (peek, close, run_in):
        assert refused.is_error and "no session" in refused.text, refused.text


async def test_allow_list_and_tool_limits_are_refused_clearly(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    async with new_agent(
        daemon, "narrow", "--allow", "staging-*", "--tools", "find,sessions"
    ) as agent:
        listing = await agent.call("find")
        outside = await agent.call("run", asset="db-01", command="id")
        wrong_tool = await agent.call("run", asset="staging-api-01", command="id")
        bad_args = await agent.call("run", command="id", shell="zsh")
    assert [line.split()[0] for line in listing.text.splitlines()] == ["staging-api-01"]
    assert outside.is_error and "may only use the tools" in outside.text
    assert wrong_tool.is_error and "find, sessions" in wrong_tool.text
    assert bad_args.is_error and "does not take `shell`" in bad_args.text
    async with new_agent(daemon, "stagehand", "--allow", "web-*", "--accounts", "deploy") as agent:
        outside = await agent.call("run", asset="db-01", command="id")
        accounts = await agent.call("find", asset="web-01")
        other_account = await agent.call("run", asset="web-01", account="@USER", command="id")
    assert outside.is_error and "allow-list" in outside.text, outside.text
    assert accounts.text.splitlines()[1:] == ["deploy  (username deploy)"], accounts.text
    assert other_account.is_error and "Not allowed" in other_account.text, other_account.text


async def test_a_revoked_token_is_refused_at_the_next_call(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    async with new_agent(daemon, "contractor", "--allow", "web-*") as agent:
        opened = await agent.call("run", asset="web-01", command="echo hello")
        assert not opened.is_error
        revoked = daemon.cli("client", "revoke", "contractor")
        assert revoked.returncode == 0 and opened.fields["session"] in revoked.stdout
        refused = await agent.call("sessions")
    assert refused.is_error
    assert "revoked" in refused.text and "jsctl mcp install" in refused.text
    assert "Traceback" not in refused.text
