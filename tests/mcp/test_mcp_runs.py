"""An agent's runs keep their shell's state yet get every command's own status, stop at prompts
with a clear state, are never typed into a program, and say when output was dropped."""

from __future__ import annotations

import time

from jsctl_fixtures import LoggedIn
from mcp_agent import new_agent

from jsctl_clients.mcp._tools import TOOLS


async def test_every_tool_carries_complete_annotations(shared_login: LoggedIn) -> None:
    async with new_agent(shared_login.daemon, "annotated", "--allow", "web-*") as agent:
        listed = await agent.session.list_tools()
    specs = {spec.name: spec for spec in TOOLS}
    for tool in listed.tools:
        hints = tool.annotations
        assert hints is not None and hints.title, tool.name
        assert None not in (hints.read_only_hint, hints.destructive_hint,
                            hints.idempotent_hint, hints.open_world_hint), tool.name  # fmt: skip
        assert hints.read_only_hint == specs[tool.name].read_only
        assert hints.title == specs[tool.name].title
        assert not (hints.read_only_hint and hints.destructive_hint), tool.name
    assert {t.name for t in listed.tools if t.annotations and t.annotations.destructive_hint} >= {
        "run", "input", "files", "close"
    }  # fmt: skip


async def test_state_persists_and_exit_reports_its_status_then_a_new_shell(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "stateful", "--allow", "web-*") as agent:
        first = await agent.call("run", asset="web-02", command="cd /tmp && X=kept")
        session = first.fields["session"]
        kept = await agent.call("run", session=session, command="echo $X $PWD")
        assert kept.output.strip() == "kept /tmp", kept.text
        for command, status in [("exit 3", "3"), ("set -e; false", "1"), ("exec true", "0")]:
            ended = await agent.call("run", session=session, command=command)
            assert (ended.fields["state"], ended.fields["exit"]) == ("done", status), ended.text
            assert "a new shell was started" in ended.text, ended.text
            again = await agent.call("run", session=session, command="echo alive ${X:-reset}")
            assert again.output.strip() == "alive reset", again.text
            await agent.call("run", session=session, command="X=kept")


async def test_a_prompt_is_reported_as_waiting_input_and_can_be_answered(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "prompted", "--allow", "web-*") as agent:
        started = time.monotonic()
        asked = await agent.call(
            "run", asset="web-01", command='read -p "Remove it? [y/N] " a </dev/tty; echo "a=$a"',
            wait=20,
        )  # fmt: skip
        assert time.monotonic() - started < 3 + 2  # about 1 s of quiet, plus the round trips
        assert asked.fields["state"] == "waiting_input", asked.text
        assert asked.fields["prompt"] == "Remove it? [y/N]"
        assert "input" in asked.text and "interrupt" in asked.text
        await agent.call("input", session=asked.fields["session"], text="y", keys=["enter"])
        done = await agent.call("read", id=asked.fields["run"], wait=10)
        assert done.fields["state"] == "done" and "a=y" in done.output, done.text


async def test_a_run_is_refused_not_typed_into_a_program_the_agent_started(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "typist", "--allow", "web-*") as agent:
        first = await agent.call("run", asset="web-01", command="true")
        session = first.fields["session"]
        await agent.call("input", session=session, text="sh -c 'echo g''o; exec cat'",
                         keys=["enter"], wait=2)  # fmt: skip
        refused = await agent.call("run", session=session, command="echo never")
        assert refused.is_error and "not back at a shell prompt" in refused.text, refused.text
        assert "| go" in refused.text  # the screen's last lines show what holds it
        await agent.call("interrupt", id=session)
        screen = await agent.call("screen", session=session)
        assert "never" not in screen.text


async def test_the_first_result_says_when_the_start_already_left_the_buffer(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "flooder", "--allow", "web-*") as agent:
        result = await agent.call(
            "run", asset="web-02", command="head -c 6000000 /dev/zero | tr '\\0' x; echo; echo END",
            wait=60,
        )  # fmt: skip
    assert result.fields["state"] == "done", result.text
    assert "already left the buffer" in result.text, result.text[:400]


async def test_input_keeps_the_order_of_text_and_keys_and_read_starts_from_the_end(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "orderly", "--allow", "web-*") as agent:
        counted = await agent.call("run", asset="web-01", command="seq 1 3000")
        session = counted.fields["session"]
        tail = await agent.call("read", id=counted.fields["run"], offset=-18)  # 3 lines, CRLF
        assert tail.output.split() == ["2998", "2999", "3000"], tail.text
        whole_tail = await agent.call("read", id=session, offset=-300)
        assert "3000" in whole_tail.output and "1\n2\n" not in whole_tail.output
        typed = await agent.call(
            "input", session=session, wait=2,
            seq=["text:echo one", "left", "left", "left", "text:X", "enter"],
        )  # fmt: skip
        assert "Xone" in typed.output, typed.text
        both = await agent.call("input", session=session, seq=["enter"], text="x")
        assert both.is_error or "not both" in both.text


async def test_a_refused_asset_is_not_described_and_errors_name_tools(
    shared_login: LoggedIn,
) -> None:
    async with new_agent(shared_login.daemon, "outsider", "--allow", "web-*") as agent:
        refused = await agent.call("run", asset="db-01", command="true")
        unknown = await agent.call("run", asset="nope-xyz", command="true")
    assert refused.is_error and "10.0.2.21" not in refused.text, refused.text
    assert unknown.is_error and "`find` tool" in unknown.text and "jsctl" not in unknown.text
