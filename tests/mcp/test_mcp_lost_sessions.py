"""After a daemon dies, every front end says which sessions were lost, when and why."""

from __future__ import annotations

import signal
import time

from jsctl_fixtures import LoggedIn
from mcp_agent import connect_agent, create_client

from jsctl_protocol import ErrorCode, RpcError


def _wait_for_index(logged: LoggedIn, session: str) -> None:
    index = logged.daemon.paths.state_dir / "sessions-index.json"
    deadline = time.monotonic() + 10
    while session not in (index.read_text() if index.exists() else ""):
        assert time.monotonic() < deadline, "the session never reached the index"
        time.sleep(0.1)
    assert index.stat().st_mode & 0o777 == 0o600


async def test_after_a_crash_sessions_wait_logs_and_mcp_name_the_lost(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    with daemon.client() as client:
        session = client.call("session.open", asset="web-01", name="night-job")["session"]["id"]
        run = client.call("run.start", session=session, command="sleep 300", wait=0.2)
        handle = run["handle"]
    token_file = create_client(daemon, "watcher", "--allow", "web-*")
    with daemon.client(token=token_file.read_text().strip()) as agent_client:
        agent_session = agent_client.call("session.open", asset="web-02")["session"]["id"]
    _wait_for_index(logged_in, agent_session)
    leftover = daemon.paths.state_dir / ".clients.json.abcd1234"  # an interrupted atomic write
    leftover.write_text("{")
    assert daemon.process is not None
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait()

    daemon.start()
    assert not leftover.exists()
    listing = daemon.cli("sessions")
    assert listing.returncode == 0, listing.stderr
    assert session in listing.stderr and "night-job" in listing.stderr
    assert "exited without closing it" in listing.stderr and "sleep 300" in listing.stderr
    waited = daemon.cli("wait", handle)
    assert waited.returncode != 0
    assert "lost" in waited.stderr and "never existed" not in waited.stderr
    logs = daemon.cli("logs", "night-job")
    assert logs.returncode != 0 and "was lost at" in logs.stderr, logs.stderr
    with daemon.client() as client:
        try:
            client.call("session.read", session=session)
        except RpcError as exc:
            assert exc.code == ErrorCode.SESSION_ENDED and exc.data["lost"]["id"] == session
        else:
            raise AssertionError("a lost session read as if alive")
    async with connect_agent(daemon, token_file) as agent:
        sessions = await agent.call("sessions")
        [line] = [line for line in sessions.text.splitlines() if agent_session in line]
        assert "state=lost" in line and "exited without closing it" in line
        assert session not in sessions.text  # the person's session is not the agent's to see
