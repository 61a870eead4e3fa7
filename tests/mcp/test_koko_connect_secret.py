"""An account KoKo asks a secret for before it connects (``@USER``: the user's own password;
``@INPUT``: a typed one), KoKo v4.10.15 ``server.go``: the session opens waiting for it, only a
person answers (``jsctl secret``), nothing else is typed there, and the session then goes live.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsctl_fixtures import LoggedIn
from jsctl_testing import DaemonProcess
from mcp_agent import connect_agent, create_client

from jsctl_protocol import ErrorCode, RpcError

ASKS = "'s password:"


def _listed(daemon: DaemonProcess) -> list[dict[str, Any]]:
    with daemon.client() as client:
        return list(client.call("session.list", all=True)["sessions"])


def test_a_person_answers_kokos_connect_prompt_and_the_session_goes_live(
    shared_login: LoggedIn,
) -> None:
    daemon, sandbox = shared_login.daemon, shared_login.sandbox
    secret = sandbox.user(shared_login.username).password
    with daemon.client() as client:
        opened = client.call("session.open", asset="web-01", account="@USER")["session"]
        session = opened["id"]
        assert opened["state"] == "live" and ASKS in opened["waiting_secret"], opened
        with pytest.raises(RpcError) as busy:  # nothing typed into KoKo's prompt but the secret
            client.call("run.start", session=session, command="echo typed-too-early", wait=5)
        assert busy.value.code == ErrorCode.CONFLICT
        assert f"jsctl secret {session}" in str(busy.value)
        answered = daemon.cli("secret", session, input=secret + "\n")
        assert answered.returncode == 0, answered.stderr
        assert ASKS in answered.stderr
        run = client.call("run.start", session=session, command="echo live-$((6*7))", wait=30)
        assert run["state"] == "done" and run["exit_status"] == 0, run
        assert b"live-42" in run["output"]
        everything = client.call("session.read", session=session, offset=0)["data"]
        assert secret.encode() not in everything and b"typed-too-early" not in everything
        assert client.call("session.get", session=session)["session"].get("waiting_secret") is None
        client.call("session.kill", sessions=[session])


async def test_an_agent_is_told_to_ask_the_person(logged_in: LoggedIn) -> None:
    daemon, sandbox = logged_in.daemon, logged_in.sandbox
    secret = sandbox.user(logged_in.username).password
    token = create_client(daemon, "connector", "--allow", "web-*")
    async with connect_agent(daemon, token) as agent:
        asked = await agent.call("run", asset="web-01", account="@USER", command="hostname")
        assert asked.is_error and "waits for a secret" in asked.text, asked.text
        session = next(
            line.split("session ")[1].split()[0]
            for line in asked.text.splitlines()
            if "session " in line
        )
        assert f"jsctl secret {session}" in asked.text
        typed = await agent.call("input", session=session, text=secret + "\r")
        assert typed.is_error and f"jsctl secret {session}" in typed.text
        listed = await agent.call("sessions")
        assert session in listed.text
        answered = daemon.cli("secret", session, input=secret + "\n")
        assert answered.returncode == 0, answered.stderr
        done = await agent.call("run", session=session, command="echo agent-$((40+2))")
        assert not done.is_error and "agent-42" in done.text, done.text
    assert all(secret not in text for text in agent.seen)


def test_exec_keeps_one_session_for_the_person_to_answer(shared_login: LoggedIn) -> None:
    daemon, sandbox = shared_login.daemon, shared_login.sandbox
    secret = sandbox.user(shared_login.username).password
    before = {s["id"] for s in _listed(daemon)}
    first = daemon.cli("exec", "web-01", "--account", "@USER", "--", "echo hi")
    again = daemon.cli("exec", "web-01", "--account", "@USER", "--", "echo hi")
    opened = [s for s in _listed(daemon) if s["id"] not in before and s["state"] == "live"]
    assert len(opened) == 1, opened  # the second exec found the waiting one, opened none
    session = opened[0]["id"]
    for refused in (first, again):
        assert refused.returncode != 0
        assert f"answer it with `jsctl secret {session}`" in refused.stderr, refused.stderr
    answered = daemon.cli("secret", session, input=secret + "\n")
    assert answered.returncode == 0, answered.stderr
    assert "The session is live." in answered.stdout  # so the next exec finds it ready
    done = daemon.cli("exec", "web-01", "--account", "@USER", "--", "echo hi-$((1+1))")
    assert done.returncode == 0 and done.stdout == "hi-2\n", done.stderr
    with daemon.client() as client:
        client.call("session.kill", sessions=[session])
