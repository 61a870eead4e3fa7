"""Identity boundaries: owners are stable ids, never display names; listings apply allow-lists."""

from __future__ import annotations

from typing import Any

import pytest
from jsctl_fixtures import LoggedIn

from jsctl_clients.rpc import DaemonClient
from jsctl_protocol import ErrorCode, RpcError


def create_client(client: DaemonClient, name: str, *allow: str) -> str:
    return str(client.call("client.create", name=name, allow=list(allow))["token"])


def refused(call: Any, code: ErrorCode = ErrorCode.NOT_FOUND) -> str:
    with pytest.raises(RpcError) as caught:
        call()
    assert caught.value.code == code, caught.value
    return caught.value.message


@pytest.mark.parametrize("name", ["human", "Human", "person", "root"])
def test_names_that_stand_for_the_person_are_refused(logged_in: LoggedIn, name: str) -> None:
    result = logged_in.daemon.cli("client", "create", name, "--allow", "nothing-*")
    assert result.returncode != 0
    assert "reserved" in result.stderr


def test_a_client_cannot_touch_the_persons_sessions(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    with daemon.client() as person:
        session = person.call("session.open", asset="web-01", name="mine")["session"]["id"]
        token = create_client(person, "helper", "nothing-*")
        with daemon.client(token=token) as agent:
            assert agent.call("session.list", all=True)["sessions"] == []
            for ref in (session, "mine"):
                refused(lambda ref=ref: agent.call("session.read", session=ref))
                refused(lambda ref=ref: agent.call("session.write", session=ref, data="id\r"))
                refused(lambda ref=ref: agent.call("session.kill", sessions=[ref]))
                refused(lambda ref=ref: agent.call("run.start", session=ref, command="id"))
        assert person.call("session.get", session=session)["session"]["state"] == "live"


def test_a_client_recreated_under_an_old_name_inherits_nothing(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    with daemon.client() as person:
        first = create_client(person, "codex", "web-*")
        with daemon.client(token=first) as agent:
            run = agent.call("run.start", asset="web-01", command="echo first", wait=20)
            assert run["state"] == "done", run
            handle, session = run["handle"], run["session"]
            agent.call("session.kill", sessions=[session])
        person.call("client.revoke", name="codex")
        second = create_client(person, "codex", "web-*")
        with daemon.client(token=second) as namesake:
            assert namesake.hello["identity"]["name"] == "codex"
            listed = namesake.call("session.list", all=True)["sessions"]
            assert session not in [s["id"] for s in listed]
            refused(lambda: namesake.call("run.get", handle=handle))
            refused(lambda: namesake.call("session.read", session=session))
        # The old token stays dead even though its name lives again.
        refused(lambda: daemon.client(token=first), ErrorCode.UNAUTHORIZED)


def test_every_listing_applies_the_allow_list(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    with daemon.client() as person:
        everything = person.call("nodes.list")["nodes"]
        token = create_client(person, "web-only", "web-*")
        with daemon.client(token=token) as agent:
            assets = agent.call("assets.list")["assets"]
            nodes = agent.call("nodes.list")["nodes"]
            completion = agent.call("complete", kind="asset", prefix="")["items"]
    assert assets and all(a["name"].startswith("web-") for a in assets)
    assert all(name.startswith("web-") for name in completion)
    assert 0 < len(nodes) < len(everything)
    web_paths = {path for asset in assets for path in asset["nodes"]}
    assert {n["path"] for n in nodes} >= web_paths
    for node in nodes:
        inside = node["path"] + "/"
        holding = [a for a in assets if any((p + "/").startswith(inside) for p in a["nodes"])]
        assert node["assets_amount"] == len(holding), node
