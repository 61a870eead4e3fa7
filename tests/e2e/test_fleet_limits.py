"""A fleet larger than the session limits runs through them (real daemon, sandbox, shells).

With 10 generated assets, a profile limit of 5 and an agent limit of 3, every asset still runs:
an asset waits for another's finished exec session, which then makes room (a person's shell
never does), and the limits hold throughout.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jsctl_fixtures import LoggedIn, fleet_login
from jsctl_testing import DaemonProcess

GENERATED = 10
PER_PROFILE, PER_CLIENT = 5, 3


@pytest.fixture(scope="module")
def limited() -> Iterator[LoggedIn]:
    settings = f"max_sessions_per_profile = {PER_PROFILE}\nmax_sessions_per_client = {PER_CLIENT}\n"
    with fleet_login(GENERATED, settings) as logged:
        yield logged


def _live(daemon: DaemonProcess, owner: str | None = None) -> list[dict[str, object]]:
    with daemon.client() as client:
        sessions = client.call("session.list")["sessions"]
    return [
        s
        for s in sessions
        if s["state"] == "live" and (owner is None or str(s["owner"]).startswith(owner))
    ]


def test_a_persons_fleet_runs_every_asset_within_the_profile_limit(limited: LoggedIn) -> None:
    daemon = limited.daemon
    with daemon.client() as person:
        shell = person.call("session.open", asset="web-01")["session"]["id"]
    result = daemon.cli("exec", "--node", "/Default/fleet", "--", "echo on-$HOSTNAME")
    assert result.returncode == 0, result.stdout + result.stderr
    for i in range(1, GENERATED + 1):
        assert f"on-{('web', 'db', 'cache', 'api', 'batch')[(i - 1) % 5]}-{i:05d}" in result.stdout
    assert f"{GENERATED} assets: {GENERATED} ok, 0 failed, 0 unreachable" in result.stdout
    live = _live(daemon)
    assert len(live) <= PER_PROFILE
    assert shell in {s["id"] for s in live}  # the person's shell was never closed for room


def test_an_agents_fleet_runs_every_asset_within_its_client_limit(limited: LoggedIn) -> None:
    """After the person's fleet the profile is full of the person's idle exec sessions: those
    make room too (an exec session keeps nothing for its owner), never the person's shell."""
    daemon = limited.daemon
    token_file = daemon.home / "roomy.token"
    made = daemon.cli("client", "create", "roomy", "--allow", "*", "--token-file", str(token_file))
    assert made.returncode == 0, made.stderr
    try:
        with daemon.client(token=token_file.read_text().strip()) as agent:
            ran = agent.call("fleet.start", command="true", node="/Default/fleet", wait=120)
        assert ran["state"] == "done", ran
        errors = [r["error"] for r in ran["results"] if r["error"]]
        assert (ran["counts"]["ok"], errors) == (GENERATED, [])
        assert len(_live(daemon, "roomy")) <= PER_CLIENT
        assert len(_live(daemon)) <= PER_PROFILE
    finally:
        daemon.cli("client", "revoke", "roomy")
