"""A password prompt in an agent's session is answered by the person; the agent never sees it.

The sandbox's assets have a `sudo` that really asks for the account's password with echo off.
"""

from __future__ import annotations

import time
from pathlib import Path

from jsctl_fixtures import LoggedIn
from mcp_agent import connect_agent, create_client


def _every_file_under(*roots: Path) -> dict[Path, bytes]:
    found = {}
    for root in roots:
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and not path.is_symlink():
                found[path] = path.read_bytes()
    return found


async def test_sudo_in_an_agent_session_is_answered_by_the_person_only(
    logged_in: LoggedIn,
) -> None:
    daemon, sandbox = logged_in.daemon, logged_in.sandbox
    daemon.restart_with_config("[daemon]\nrecord_sessions = true\n")
    secret = sandbox.control().account_secret("web-01", "deploy")
    token = create_client(daemon, "sudoer", "--allow", "web-*")
    shim_log = daemon.home / "shim.log"
    async with connect_agent(daemon, token, stderr_path=shim_log) as agent:
        began = time.monotonic()
        asked = await agent.call(
            "run", asset="web-01", account="deploy", command="sudo id -un; echo after-$((40+2))"
        )
        assert time.monotonic() - began < 10, "the run waited out its whole wait at the prompt"
        assert not asked.is_error, asked.text
        assert asked.fields["state"] == "waiting_secret", asked.text
        assert asked.fields["prompt"].startswith("[sudo] password for deploy:")
        session, run = asked.fields["session"], asked.fields["run"]
        assert f"jsctl secret {session}" in asked.text
        guessed = await agent.call("input", session=session, text="hunter2\r")
        assert guessed.is_error and f"jsctl secret {session}" in guessed.text
        again = await agent.call("run", session=session, command="echo sneaky")
        assert again.is_error
        listed = await agent.call("read", id=session)
        assert listed.fields["state"] == "waiting_secret"

        refused = daemon.cli("secret", session, "--from-command", "echo nope", env={
            "JSCTL_CLIENT_TOKEN": token.read_text().strip()})  # fmt: skip
        assert refused.returncode != 0 and "not for agent client" in refused.stderr
        answered = daemon.cli("secret", session, input=secret + "\n")
        assert answered.returncode == 0, answered.stderr
        assert "[sudo] password for deploy:" in answered.stderr
        done = await agent.call("read", id=run, wait=15)
        assert done.fields["state"] == "done" and done.fields["exit"] == "0", done.text
        assert "after-42" in done.text
        screen = await agent.call("screen", session=session)
        assert "after-42" in screen.text

        # Where a terminal would echo (a plain shell prompt), --force still keeps it out.
        plain = daemon.cli("secret", session, input=secret + "\n")
        assert plain.returncode != 0 and "not at a password prompt" in plain.stderr
        forced = daemon.cli("secret", session, "--force", input=secret + "\n")
        assert forced.returncode == 0 and "echoed" in forced.stdout, forced.stdout
        await agent.call("run", session=session, command="true")
        everything = await agent.read_all(session, 0)
        assert "command not found" in everything
    human_view = daemon.cli("logs", session, "--from", "0")
    human_screen = daemon.cli("screen", session)
    audit = daemon.cli("audit", "--json").stdout
    assert '"secret.send"' in audit and '"secret.refused_input"' in audit
    files = _every_file_under(daemon.paths.state_dir, daemon.home)
    assert any("recordings" in str(path) for path in files), "no recording to scan"
    received = {
        "agent results": "\n".join(agent.seen).encode(),
        "logs of the session": human_view.stdout.encode(),
        "screen": human_screen.stdout.encode(),
        "audit": audit.encode(),
        "daemon log": daemon.log_text().encode(),
        **{str(path): data for path, data in files.items() if path.suffix != ".token"},
    }
    leaks = [where for where, data in received.items() if secret.encode() in data]
    assert leaks == []
