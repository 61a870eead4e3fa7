"""The config's session limits, enforced by the session manager inside the real daemon, and shown
where sessions are listed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess

from jsctl_protocol import ErrorCode, RpcError
from jsctl_sandbox.testing import SandboxInfo

PER_CLIENT = 2


@pytest.fixture
def limited(sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    """A logged-in daemon whose config allows an agent client two open sessions."""
    config = f"[daemon]\nmax_sessions_per_client = {PER_CLIENT}\n"
    with DaemonProcess.started(config) as daemon:
        login(daemon, sandbox)
        try:
            yield LoggedIn(daemon, sandbox, "mei")
        finally:
            daemon.cli("logout")


def test_an_agent_client_is_held_to_the_configured_limit_and_the_person_is_not(
    limited: LoggedIn,
) -> None:
    daemon = limited.daemon
    with daemon.client() as person:
        token = person.call("client.create", name="bot", allow=["web-*"])["token"]
        with daemon.client(token=token) as agent:
            ran = agent.call("run.start", asset="web-01", command="true", wait=20)
            assert ran["exit_status"] == 0, ran
            opened = [ran["session"]]
            opened.append(agent.call("session.open", asset="web-01")["session"]["id"])
            with pytest.raises(RpcError) as refused:
                agent.call("session.open", asset="web-02")
            assert refused.value.code == ErrorCode.LIMIT
            assert f"client `bot` already has {PER_CLIENT} open sessions" in refused.value.message
            assert f"the limit is {PER_CLIENT}" in refused.value.message
            # A reused idle exec session is no new session: the limit does not refuse it.
            again = agent.call("run.start", asset="web-01", command="true", wait=20)
            assert again["session"] == ran["session"] and again["exit_status"] == 0
            # The person's own sessions never count against an agent's limit, nor have one.
            mine = [
                person.call("session.open", asset="web-01")["session"]["id"]
                for _ in range(PER_CLIENT + 1)
            ]
            # An ended session frees its place.
            person.call("session.kill", sessions=[opened[0]])
            agent.call("session.open", asset="web-02")
            listing = agent.call("session.list")
            assert listing["limits"]["max_per_owner"] == PER_CLIENT
            person.call("session.kill", sessions=mine)


def test_sessions_shows_the_real_per_client_limit(limited: LoggedIn) -> None:
    listed = limited.daemon.cli("sessions")
    assert listed.returncode == 0, listed.stderr
    opened = limited.daemon.cli("exec", "web-01", "--", "true")
    assert opened.returncode == 0, opened.stderr
    listed = limited.daemon.cli("sessions")
    assert f"{PER_CLIENT} per client" in listed.stdout, listed.stdout
    assert "∞ per client" not in listed.stdout
