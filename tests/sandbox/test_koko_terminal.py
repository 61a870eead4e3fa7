"""The KoKo terminal endpoint, served by hypercorn in-process and driven by trio-websocket.

These tests use an in-memory backend so timing knobs (heartbeat, deadlines, idle) can be
tiny; test_koko_sandbox.py runs the common flows against the real sandbox over WSS.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from test_koko_support import (
    WAIT_S,
    InMemoryKokoBackend,
    InProcessTarget,
    KokoTarget,
    SandboxTarget,
    open_terminal,
    serve_koko,
)
from trio_websocket import ConnectionRejected

from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture(params=["sandbox", "in-process"])
async def target(
    request: pytest.FixtureRequest, sandbox: SandboxInfo, tmp_path: Path
) -> AsyncIterator[KokoTarget]:
    """The real sandbox over WSS, or the endpoint in-process with an in-memory backend."""
    if request.param == "sandbox":
        remote = SandboxTarget(sandbox)
        try:
            yield remote
        finally:
            await trio.to_thread.run_sync(remote.reset)
            remote.close()
    else:
        backend = InMemoryKokoBackend(workdir=tmp_path)
        async with serve_koko(backend) as ws_base:
            yield InProcessTarget(backend, ws_base)


async def test_handshake_title_session_and_echo(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        assert client.ws.subprotocol == "JMS-KOKO"
        connect = await client.start(cols=100, rows=30)
        data = json.loads(connect["data"])
        username = data["user"]["username"]
        assert data["asset"]["name"] == "web-01"
        assert {"INTERFACE", "SECURITY_SESSION_SHARE"} <= set(data["setting"])
        assert connect["raw"] is None and connect["err"] == ""

        # KoKo's connect phase: the counter, rewritten with backspaces, then a line break.
        address = re.escape(data["asset"]["address"].encode())
        first = await client.next_frame()
        assert isinstance(first, bytes)
        assert re.fullmatch(rb"Connecting to [\w.-]+\([\w.-]+\)@" + address + rb"  0\.0", first)
        session = json.loads((await client.expect("TERMINAL_SESSION"))["data"])
        counter = client.screen[len(first) :]
        assert re.fullmatch(rb"(\x08\x08\x08\d\.\d)*\r\n", counter), counter
        title = await client.next_frame()
        assert isinstance(title, bytes)
        assert re.fullmatch(rb"\x1b\]2;ssh://[\w.-]+@" + address + rb"\x07", title), title
        assert session["session"]["user"].endswith(f"({username})")
        assert session["session"]["id"] != client.connect_id
        assert session["permission"]["actions"][0] == "connect"
        assert session["session"] in await target.recorded_sessions()
        join = json.loads((await client.expect("TERMINAL_SHARE_JOIN"))["data"])
        assert join["primary"] is True

        await client.expect_output(b"@web-01:~$ ")
        await client.type("echo $((40+2)) $PWD\r")
        await client.expect_output(f"42 {target.workdir}\r\n".encode())


async def test_shell_exit_sends_close_then_silence(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.type("exit 3\r")
        close = await client.expect("CLOSE")
        assert close["id"] == client.connect_id
        await client.send("PING")
        await client.assert_silent()
    assert client.ws.closed is not None
    assert client.ws.closed.code == 1000  # our close frame, echoed


async def test_ctrl_c_interrupts_sleep(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.type("sleep 60\r")
        await client.expect_output(b"sleep 60\r\n")
        await trio.sleep(0.2)  # let bash hand the terminal to sleep
        await client.type("\x03")
        await client.expect_output(b"$ ")
        await client.type("echo status-$?\r")
        await client.expect_output(b"status-130\r\n")


async def test_resize_is_seen_by_stty(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start(cols=100, rows=30)
        await client.expect_output(b"$ ")
        await client.type("stty size\r")
        await client.expect_output(b"30 100\r\n")
        await client.send("TERMINAL_RESIZE", json.dumps({"cols": 140, "rows": 45}))
        await client.type("stty size\r")
        await client.expect_output(b"45 140\r\n")


async def test_binary_and_base64_input(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.ws.send_message(b"echo bin-$((1+1))\r")
        await client.expect_output(b"bin-2\r\n")
        raw = base64.b64encode(b"echo b64-$((2+2))\r").decode()
        await client.send("TERMINAL_BINARY", raw=raw)
        await client.expect_output(b"b64-4\r\n")


async def test_client_close_is_answered_and_kills_shell(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.type("echo pid-$((1+1))-$$-\r")
        await client.expect_output(b"pid-2-")
        pid = int((await client.expect_output(b"-\r\n"))[:-3])
        pidfd = os.pidfd_open(pid)
        try:
            await client.send("CLOSE")
            await client.expect("CLOSE")
            with trio.fail_after(WAIT_S):
                await trio.lowlevel.wait_readable(pidfd)  # readable once the process ended
        finally:
            os.close(pidfd)
        await client.assert_silent()


async def test_init_needs_connect_id_and_counts_once(target: KokoTarget) -> None:
    token = await target.issue_token("primary")
    async with open_terminal(target, token=token) as client:
        connect = await client.expect("CONNECT")
        size = json.dumps({"cols": 80, "rows": 24, "code": ""})
        await client.send("TERMINAL_INIT", size, id="not-the-connect-id")
        await client.send("TERMINAL_DATA", "echo early\r")  # ignored: no session yet
        await client.assert_silent(0.3)
        await client.send("TERMINAL_INIT", size, id=connect["id"])
        await client.send("TERMINAL_INIT", size, id=connect["id"])
        await client.expect_output(b"$ ")
        await client.type("echo one\r")
        await client.expect_output(b"one\r\n")
        sessions = [m for m in client.messages if m["type"] == "TERMINAL_SESSION"]
        assert len(sessions) <= 1
        recorded = [s for s in await target.recorded_sessions() if s["token_id"] == token]
        assert len(recorded) == 1


async def test_non_string_data_is_dropped(target: KokoTarget) -> None:
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.send("TERMINAL_DATA", {"text": "echo dropped\r"})
        await client.send("TERMINAL_DATA", 5)
        await client.send("TERMINAL_DATA", "echo kept\r", unknown_key=[1, 2])
        out = await client.expect_output(b"kept\r\n")
        assert b"dropped" not in out


async def test_login_redirect_without_valid_cookie(target: KokoTarget) -> None:
    logged_out = await target.cookie("primary")
    await target.logout("primary")
    for cookie in ("", "jms_sessionid=unknown", logged_out):
        with pytest.raises(ConnectionRejected) as rejected:
            async with open_terminal(target, cookie=cookie, query="token=abc&x=1"):
                raise AssertionError("upgrade should be refused")
        assert rejected.value.status_code == 302
        location = dict(rejected.value.headers)[b"location"]
        assert (
            location == b"/core/auth/login/?next=%2Fkoko%2Fws%2Fterminal%2F%3Ftoken%3Dabc%26x%3D1"
        )


@pytest.mark.parametrize(
    ("query", "err"),
    [
        ("", "Miss required ws params (token or target)"),
        ("token=", "Miss required ws params (token or target)"),
        ("token=no-such-token", "Token invalid"),
    ],
)
async def test_token_errors(target: KokoTarget, query: str, err: str) -> None:
    async with open_terminal(target, query=query) as client:
        error = await client.expect("ERROR")
        assert error["err"] == err
        await client.send("TERMINAL_INIT", "{}", id=error["id"])
        await client.assert_silent()


async def test_consumed_token_is_refused(target: KokoTarget) -> None:
    token = await target.issue_token("primary")
    async with open_terminal(target, token=token) as client:
        await client.start()
        await client.expect_output(b"$ ")
    async with open_terminal(target, token=token) as client:
        error = await client.expect("ERROR")
        assert error["err"].startswith("Connection token expired at:")
        await client.assert_silent()


async def test_token_of_another_user_gets_silence(target: KokoTarget) -> None:
    token = await target.issue_token("other")
    async with open_terminal(target, user="primary", token=token) as client:
        await client.send("PING")
        await client.assert_silent()
        assert client.ws.closed is None  # still open, just silent


async def test_server_pings_after_write_silence(target: KokoTarget) -> None:
    await target.configure(server_ping_after_s=0.3, ping_tick_s=0.2)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        ping = await client.expect("PING")
        assert ping["data"] == ""


async def test_silent_client_is_dropped_without_close_frame(target: KokoTarget) -> None:
    await target.configure(read_deadline_s=0.5)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_dropped()


async def test_pings_keep_a_client_past_the_read_deadline(target: KokoTarget) -> None:
    await target.configure(read_deadline_s=0.6)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        for _ in range(6):
            await trio.sleep(0.2)
            await client.send("PING", id=client.connect_id)
        await client.type("echo still-here\r")
        await client.expect_output(b"still-here\r\n")


async def test_idle_session_gets_red_notice_then_close(target: KokoTarget) -> None:
    await target.configure(idle_timeout_s=0.6, limits_tick_s=0.1)
    await target.configure(server_ping_after_s=0.1, ping_tick_s=0.1)  # PINGs are not activity
    async with open_terminal(target) as client:
        await client.start()
        await client.expect("CLOSE")
        notice = b"\n\r\x1b[31mConnect idle more than 0.01 minutes, disconnect\n\r\x1b[0m"
        assert client.screen.endswith(notice)
        await client.assert_silent(0.3)


async def test_max_session_time(target: KokoTarget) -> None:
    await target.configure(max_session_s=0.5, limits_tick_s=0.1)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect("CLOSE")
        notice = b"\n\r\x1b[31mSession max time reached, disconnect\n\r\x1b[0m"
        assert client.screen.endswith(notice)


async def test_drop_after_bytes_fault(target: KokoTarget) -> None:
    await target.configure(drop_after_bytes=2000)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        await client.type("seq 1 200000\r")
        await client.expect_dropped()
        assert sum(map(len, client.binary_frames)) >= 2000
        assert b"\r\n200000\r\n" not in client.screen


async def test_random_drop_fault(target: KokoTarget) -> None:
    await target.configure(drop_randomly=1.0)
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_dropped()
        assert b"$ " not in client.screen


async def test_utf8_can_be_split_across_frames_as_koko_does(target: KokoTarget) -> None:
    # KoKo passes a short read on as it is: a character written in two halves arrives split.
    text = "aé€😀" * 20000  # 1-, 2-, 3- and 4-byte characters
    async with open_terminal(target) as client:
        await client.start()
        await client.expect_output(b"$ ")
        (target.workdir / "wide.txt").write_text(text + "\nEND-OF-FILE\n")
        await client.type("printf '<\\303'; sleep 0.3; printf '\\251>\\n'\r")
        await client.expect_output(b"<\xc3\xa9>")
        assert any(frame.endswith(b"<\xc3") for frame in client.binary_frames)
        await client.type("cat wide.txt\r")
        seen = await client.expect_output(b"END-OF-FILE")
        assert text.encode() in seen  # every byte arrives, in order


async def test_v3_mode_sends_four_key_frames_without_asset(tmp_path: Path) -> None:
    backend = InMemoryKokoBackend(workdir=tmp_path)
    backend.settings.version = "3.10.21"
    async with (
        serve_koko(backend) as ws_base,
        open_terminal(InProcessTarget(backend, ws_base)) as client,
    ):
        client.envelope_keys = {"id", "type", "data", "err"}
        connect = await client.start()
        assert set(json.loads(connect["data"])) == {"user", "setting"}
        await client.expect("TERMINAL_SESSION")
        await client.expect_output(b"$ ")
