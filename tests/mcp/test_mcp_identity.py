"""The effective remote user after `sudo -i` and `exit`, verified by a probe, shown and matched."""

from __future__ import annotations

import json
import time

import trio
from jsctl_fixtures import LoggedIn
from mcp_agent import new_agent


def _effective_user(logged: LoggedIn, session: str) -> str | None:
    listing = json.loads(logged.daemon.cli("sessions", "--json").stdout)["sessions"]
    found = next(s for s in listing if s["id"] == session)
    return found.get("effective_user")


async def _until_user(logged: LoggedIn, session: str, user: str) -> None:
    deadline = time.monotonic() + 20
    while _effective_user(logged, session) != user:
        assert time.monotonic() < deadline, f"{session} never became {user}"
        await trio.sleep(0.2)


async def test_sudo_i_and_exit_are_tracked_shown_and_matched_by_rules(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    secret = logged_in.sandbox.control().account_secret("web-01", "deploy")
    async with new_agent(
        daemon, "rooter", "--allow", "web-*", "--confirm", "user:root&kind:run"
    ) as agent:
        first = await agent.call("run", asset="web-01", account="deploy", command="id -un")
        assert first.fields["state"] == "done" and first.output.strip() == "deploy", first.text
        session = first.fields["session"]
        asked = await agent.call("input", session=session, text="sudo -i\r", wait=3)
        assert asked.fields["state"] == "waiting_secret", asked.text
        answered = daemon.cli("secret", session, input=secret + "\n")
        assert answered.returncode == 0, answered.stderr
        await _until_user(logged_in, session, "root")
        listed = daemon.cli("sessions")
        assert "deploy → root" in listed.stdout
        held = await agent.call("run", session=session, command="id -un")
        assert held.fields["state"] == "awaiting_approval", held.text
        assert daemon.cli("deny", held.fields["id"]).returncode == 0
        as_root = daemon.cli("exec", "--session", session, "--", "true # as root")
        assert as_root.returncode == 0, as_root.stderr
        page = await agent.call("read", id=session)
        assert page.fields["identity"].startswith("deploy@web-01 → root (sudo)"), page.text
        left = await agent.call("input", session=session, text="exit\r", wait=2)
        assert not left.is_error, left.text
        await _until_user(logged_in, session, "deploy")
        free = await agent.call("run", session=session, command="id -un")
        assert free.fields["state"] == "done" and free.output.strip() == "deploy", free.text
    records = json.loads(daemon.cli("audit", "--json").stdout)["records"]
    changes = [r for r in records if r["action"] == "identity.change"]
    runs = [(r["command"], r.get("run_as")) for r in records if r["action"] == "run.start"]
    assert runs[-1] == ("id -un", None) and ("true # as root", "root") in runs
    assert [(r["from"].split("@")[0], r["to"].split("@")[0], r.get("via")) for r in changes] == [
        ("deploy", "root", "sudo"),
        ("root", "deploy", "exit"),
    ]


async def test_su_asks_the_target_password_and_its_change_is_verified(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    root_password = logged_in.sandbox.control().account_secret("web-01", "root")
    async with new_agent(daemon, "suer", "--allow", "web-*") as agent:
        first = await agent.call("run", asset="web-01", account="deploy", command="whoami")
        assert first.output.strip() == "deploy", first.text
        session = first.fields["session"]
        asked = await agent.call("input", session=session, text="su - root\r", wait=3)
        assert asked.fields["state"] == "waiting_secret" and asked.fields["prompt"] == "Password:"
        wrong = daemon.cli("secret", session, input="not-the-password\n")
        assert wrong.returncode == 0
        await trio.sleep(1.5)
        failed = await agent.call("read", id=session)
        assert "su: Authentication failure" in failed.text
        assert _effective_user(logged_in, session) in (None, "deploy")
        await agent.call("input", session=session, text="su - root\r", wait=3)
        assert daemon.cli("secret", session, input=root_password + "\n").returncode == 0
        await _until_user(logged_in, session, "root")
        whoami = await agent.call("run", session=session, command="whoami")
        assert whoami.output.strip() == "root"
        assert whoami.fields["identity"] == "deploy@web-01 → root (su)", whoami.text
    assert root_password not in "\n".join(agent.seen)
