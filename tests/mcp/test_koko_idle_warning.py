"""KoKo's idle limit, read from the server and warned about before it strikes (KoKo v4.10.15
``switch.go``: no input, output or resize for SECURITY_MAX_IDLE_TIME ends the session).

The administrator's limit is 2 minutes here, read by the daemon from the core's public
settings as any user may; the daemon warns ``server_idle_warning`` seconds before it (110 here,
so the warning is due 10 s into a quiet spell instead of 25 minutes). The sandbox's clock then
moves so that KoKo, on its own clock, strikes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import trio
from jsctl_fixtures import login
from jsctl_testing import DaemonProcess, drain_pty, in_a_terminal
from mcp_agent import connect_agent, create_client

WARNING = "KoKo ends this session for idleness in ~"
LIMIT_S = 120  # SECURITY_MAX_IDLE_TIME = 2 (minutes) on this server
LEAD_S = 110


def _session(daemon: DaemonProcess, session: str) -> dict[str, Any]:
    with daemon.client() as client:
        return dict(client.call("session.get", session=session)["session"])


def _warned_at(daemon: DaemonProcess, session: str, limit_s: float = 40) -> float:
    deadline = time.monotonic() + limit_s
    while (info := _session(daemon, session))["server_idle_warning"] is None:
        assert time.monotonic() < deadline, "the idle warning never came"
        time.sleep(0.2)
    return float(info["server_idle_at"]) - float(info["server_idle_timeout_s"])


def _agent_sees(daemon: DaemonProcess, token_file: Path) -> str:
    """What the agent's `sessions` tool says (a real `jsctl mcp` process)."""

    async def ask() -> str:
        async with connect_agent(daemon, token_file) as agent:
            return (await agent.call("sessions")).text

    return trio.run(ask)


def test_idle_limit_read_from_the_server_and_warned_before_koko_strikes(
    fresh_sandbox: Any,
) -> None:
    config = f"[daemon]\nserver_idle_warning = {LEAD_S}\n"
    with (
        fresh_sandbox("--no-throttle") as sandbox,
        DaemonProcess.started(config=config) as daemon,
    ):
        sandbox.control().koko(idle_timeout_s=LIMIT_S, limits_tick_s=0.1)
        login(daemon, sandbox)
        token_file = create_client(daemon, "night-agent", "--allow", "web-*")
        with daemon.client(token=token_file.read_text().strip()) as agent_rpc:
            session = agent_rpc.call("session.open", asset="web-01")["session"]["id"]
        info = _session(daemon, session)
        assert info["server_idle_timeout_s"] == LIMIT_S and info["server_idle_known"]
        assert info["server_idle_warning"] is None  # 120 s of quiet left: no false alarm
        listing = daemon.cli("sessions")
        assert "after 2 min without input" in listing.stdout
        assert "the server's SECURITY_MAX_IDLE_TIME" in listing.stdout
        assert WARNING not in listing.stdout

        # A person watching: attaching does not hold KoKo's limit off.
        pid, fd = in_a_terminal(daemon.env, "attach", "--read-only", session)
        try:
            before = _agent_sees(daemon, token_file)
            assert "idle_warning" not in before and "server_idle_in=" in before
            quiet_since = _warned_at(daemon, session)
            assert time.time() - quiet_since >= LIMIT_S - LEAD_S - 1  # not early
            shown = daemon.cli("sessions")
            assert WARNING in shown.stdout, shown.stdout
            told = _agent_sees(daemon, token_file)
            assert f'idle_warning="{WARNING}' in told, told
            watched = drain_pty(fd, 3.0, f"[jsctl: {WARNING}".encode())
            assert f"[jsctl: {WARNING}".encode() in watched, watched[-400:]

            with daemon.client() as client:  # something typed: the warning goes away
                before_offset = _session(daemon, session)["end_offset"]
                client.call("session.write", session=session, data="\r")
                deadline = time.monotonic() + 10
                while (now := _session(daemon, session))["server_idle_warning"] is not None or (
                    now["end_offset"] == before_offset  # the new prompt: output counts too
                ):
                    assert time.monotonic() < deadline, "typing did not clear the warning"
                    time.sleep(0.1)
                time.sleep(0.5)  # the prompt has passed KoKo before its clock moves
                sandbox.control().advance_clock(LIMIT_S + 60)  # KoKo's clock: quiet too long
                deadline = time.monotonic() + 20
                while (ended := _session(daemon, session))["state"] == "live":
                    assert time.monotonic() < deadline, "KoKo never ended the idle session"
                    time.sleep(0.1)
            assert ended["reason"] == (
                "KoKo ended the session: Connect idle more than 2 minutes, disconnect"
            )
            assert ended["server_idle_warning"] is None
            gone = drain_pty(fd, 5.0, b"Connect idle more than 2 minutes")
            assert b"Connect idle more than 2 minutes" in watched + gone
        finally:
            os.close(fd)
            os.waitpid(pid, 0)


def test_an_unreadable_limit_is_shown_as_koko_default(fresh_sandbox: Any) -> None:
    with (
        fresh_sandbox("--no-throttle") as sandbox,
        DaemonProcess.started() as daemon,
    ):
        login(daemon, sandbox)
        sandbox.control().add_fault("/api/v1/settings/public/", status=404)  # an old server
        with daemon.client() as client:
            session = client.call("session.open", asset="web-01")["session"]["id"]
        info = _session(daemon, session)
        assert info["server_idle_timeout_s"] == 1800 and not info["server_idle_known"]
        assert info["server_idle_warning"] is None
        listing = daemon.cli("sessions")
        assert "after 30 min without input" in listing.stdout
        assert "the server's own could not be read" in listing.stdout
