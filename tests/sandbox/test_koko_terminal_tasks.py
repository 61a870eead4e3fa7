"""KoKo's connect phase, limits and administrator tasks on the terminal endpoint (read from
KoKo v4.10.15: ``server.go`` ``Proxy``/``getServerConn``, ``switch.go`` ``Bridge``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from test_koko_support import InMemoryKokoBackend, InProcessTarget, open_terminal, serve_koko

from jsctl_sandbox._koko_tasks import LIVE_TERMINALS
from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture
async def local(tmp_path: Path) -> AsyncIterator[InProcessTarget]:
    backend = InMemoryKokoBackend(workdir=tmp_path)
    backend.settings.limits_tick_s = 0.05
    async with serve_koko(backend) as ws_base:
        yield InProcessTarget(backend, ws_base)


def _notice(text: str) -> bytes:
    return b"\n\r\x1b[31m" + text.encode() + b"\n\r\x1b[0m"


async def _live_id() -> str:
    with trio.fail_after(10):
        while not LIVE_TERMINALS:  # noqa: ASYNC110 - the bridge registers itself
            await trio.sleep(0.01)
    return next(iter(LIVE_TERMINALS))


async def test_input_during_connecting_reaches_the_shell(local: InProcessTarget) -> None:
    local.backend.settings.asset_connect_s = 0.5
    async with open_terminal(local) as client:
        await client.start()
        await client.type("echo early-$((6*7))\r")  # while "Connecting to …" counts
        await client.expect_output(b"early-42")


async def test_password_prompt_consumes_early_input(local: InProcessTarget) -> None:
    local.backend.needs_password = True
    async with open_terminal(local) as client:
        await client.start()
        await client.expect_output(b"root(root)'s password: ")
        await client.type("echo swallowed\r")  # taken as the password
        await client.expect_output(b"Connecting to root(root)@10.0.0.11  0.0")
        await client.expect_output(b"$ ")
        await client.type("echo after-$((1+1))\r")
        await client.expect_output(b"after-2")
        assert b"swallowed" not in client.screen


async def test_failed_asset_login_prints_the_error_then_close(local: InProcessTarget) -> None:
    local.backend.settings.asset_login_error = "ssh: handshake failed: unable to authenticate"
    async with open_terminal(local) as client:
        await client.start()
        await client.expect("CLOSE")
        assert client.screen.endswith(
            b"\r\nConnecting to root(root)@10.0.0.11 error: "
            b"ssh: handshake failed: unable to authenticate\r\n"
        )


async def test_idle_follows_the_server_clock_and_pings_do_not_count(
    local: InProcessTarget,
) -> None:
    settings = local.backend.settings
    assert settings.idle_timeout_s == 30 * 60  # KoKo's default SECURITY_MAX_IDLE_TIME
    settings.server_ping_after_s, settings.ping_tick_s = 0.05, 0.05
    async with open_terminal(local) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.expect("PING")
        await client.send("TERMINAL_RESIZE", json.dumps({"cols": 90, "rows": 20}))
        await trio.sleep(0.3)  # the resize is taken in (it counts as activity)
        local.backend.clock_offset += 29 * 60  # 29 minutes after the resize: not yet
        await client.expect("PING")
        await client.assert_silent_of("CLOSE", 0.3)
        local.backend.clock_offset += 2 * 60
        await client.expect("CLOSE")
        assert client.screen.endswith(_notice("Connect idle more than 30 minutes, disconnect"))


async def test_admin_kill_pause_and_expired_permission(local: InProcessTarget) -> None:
    async with open_terminal(local) as client:
        await client.start()
        await client.expect_output(b"$ ")
        tasks = LIVE_TERMINALS[await _live_id()]
        await tasks.run_task("lock_session", "Administrator(admin)")
        pause = await client.expect("TERMINAL_SESSION_PAUSE")
        assert json.loads(pause["data"]) == {"user": "Administrator(admin)"}
        await client.type("echo dropped-$((1+1))\r")  # KoKo drops input while paused
        await client.assert_silent(0.3)
        await tasks.run_task("unlock_session", "Administrator(admin)")
        await client.expect("TERMINAL_SESSION_RESUME")
        await client.type("echo kept-$((2+2))\r")
        await client.expect_output(b"kept-4")
        assert b"dropped-2" not in client.screen
        await tasks.run_task("perm_expired", "")
        await client.expect("TERMINAL_PERM_EXPIRED")
        local.backend.clock_offset += 601
        await client.expect("CLOSE")
        assert client.screen.endswith(_notice("Permission has expired, disconnect"))


async def test_admin_kill_through_the_control_api(sandbox: SandboxInfo) -> None:
    from test_koko_support import SandboxTarget

    remote = SandboxTarget(sandbox)
    try:
        async with open_terminal(remote) as client:
            await client.start()
            await client.expect_output(b"$ ")
            control = sandbox.control()
            live = await trio.to_thread.run_sync(control.terminals)
            assert live and live[0]["paused"] is False
            for terminal in live:
                await trio.to_thread.run_sync(
                    control.terminal_task, terminal["id"], "kill_session", "Ann(ann)"
                )
            await client.expect("CLOSE")
            assert client.screen.endswith(_notice("Terminated by admin Ann(ann)"))
    finally:
        await trio.to_thread.run_sync(remote.reset)
        remote.close()
