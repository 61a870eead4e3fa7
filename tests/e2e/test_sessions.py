"""Sessions through the real daemon and sandbox: attach, watchers, gaps, screen, faults, scale."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from typing import Any

import pytest
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess, detach_and_close, drain_pty, in_a_terminal

from jsctl_clients.rpc import DaemonClient
from jsctl_protocol import ErrorCode, RpcError
from jsctl_sandbox.testing import SandboxInfo


def open_session(client: DaemonClient, asset: str = "web-01", **params: Any) -> str:
    return str(client.call("session.open", asset=asset, **params)["session"]["id"])


def read_until(
    client: DaemonClient, session: str, needle: bytes, offset: int = 0, timeout: float = 20
) -> tuple[bytes, int]:
    deadline = time.monotonic() + timeout
    seen = b""
    while needle not in seen:
        assert time.monotonic() < deadline, f"never saw {needle!r} in {seen[-300:]!r}"
        page = client.call("session.read", session=session, offset=offset, wait=2.0)
        seen += page["data"]
        offset = page["next_offset"]
    return seen, offset


def test_two_attached_clients_see_the_same_bytes_and_read_only_cannot_write(
    shared_login: LoggedIn,
) -> None:
    daemon = shared_login.daemon
    with daemon.client() as control:
        session = open_session(control)
        start = control.call("session.get", session=session)["session"]["end_offset"]
        streams: dict[str, bytes] = {"rw": b"", "ro": b""}

        def watch(name: str, read_only: bool) -> None:
            with daemon.client() as viewer:
                for item in viewer.stream(
                    "session.attach", session=session, offset=start, read_only=read_only
                ):
                    streams[name] += item.get("data", b"")
                    if b"done-42" in streams[name]:
                        return

        threads = [
            threading.Thread(target=watch, args=("rw", False)),
            threading.Thread(target=watch, args=("ro", True)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        control.call("session.write", session=session, data="echo done-$((6*7))\r")
        for thread in threads:
            thread.join(timeout=30)
        assert b"done-42" in streams["rw"]
        assert streams["rw"][:200] == streams["ro"][:200]
        with daemon.client() as watcher:
            stream = watcher.stream("session.attach", session=session, read_only=True)
            next(iter(stream))  # attached read-only on this connection
            with pytest.raises(RpcError) as refused:
                watcher.call("session.write", session=session, data="echo nope\r")
        assert refused.value.code == ErrorCode.FORBIDDEN
        control.call("session.kill", sessions=[session])


def test_client_killed_mid_stream_then_reattach_gets_every_byte(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    with daemon.client() as client:
        session = open_session(client, "web-02")
        offset = client.call("session.get", session=session)["session"]["end_offset"]
        client.call("session.write", session=session, data="seq 1 3000; echo END-$((6*7))\r")
    # the writer is gone; a new client reads everything still buffered, in order
    with daemon.client() as again:
        seen, _ = read_until(again, session, b"END-42\r\n", offset)
        lines = [line.split("\r")[-1] for line in seen.decode().split("\r\n")]
        numbers = [line for line in lines if line.isdigit()]
        assert numbers == [str(i) for i in range(1, 3001)]
        again.call("session.kill", sessions=[session])


def test_missed_bytes_are_reported_exactly(sandbox: SandboxInfo) -> None:
    with DaemonProcess.started() as daemon:
        config = daemon.paths.config_dir
        config.mkdir(parents=True, exist_ok=True)
        (config / "config.toml").write_text("[daemon]\nsession_buffer_bytes = 65536\n")
        daemon.stop()
        daemon.start()
        login(daemon, sandbox)
        with daemon.client() as client:
            session = open_session(client)
            client.call("session.write", session=session, data="seq 1 100000; echo FIN\r")
            info: dict[str, Any] = {}
            page: dict[str, Any] = {"data": b""}
            deadline = time.monotonic() + 60
            while info.get("end_offset", 0) < 600_000 or b"FIN" not in page["data"]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
                info = client.call("session.get", session=session)["session"]
                page = client.call("session.read", session=session, offset=0)
            # Every byte before the ring's start is counted as missed, none twice or lost.
            assert page["missed"] == page["next_offset"] - len(page["data"]) > 0
            assert page["missed"] >= info["start_offset"] > 0
            assert page["data"]  # the rest is still there


def test_interactive_attach_detach_reattach_in_a_pty(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    with daemon.client() as client:
        session = open_session(client, "db-01")

    def attach_and_type(keys: bytes, expect: bytes) -> bytes:
        pid, fd = in_a_terminal(daemon.env, "attach", session)
        out = drain_pty(fd, 10.0, b"@db-01")  # the recent output replayed: raw mode is on
        os.write(fd, keys)
        out += drain_pty(fd, 5.0, expect)
        return out + detach_and_close(pid, fd)

    first = attach_and_type(b"export JSCTL_X=kept; cd /tmp\r", b"/tmp")
    assert b"detached; the session keeps running" in first
    second = attach_and_type(b"echo $JSCTL_X in $PWD\r", b"kept in /tmp")
    assert b"kept in /tmp" in second
    with daemon.client() as client:
        assert client.call("session.get", session=session)["session"]["state"] == "live"
        client.call("session.kill", sessions=[session])


@pytest.mark.skipif(shutil.which("top") is None, reason="the story needs top (procps)")
def test_shell_top_detach_close_the_terminal_reattach_from_another(
    shared_login: LoggedIn,
) -> None:
    """The issue's own story: top keeps running while no terminal shows it."""
    daemon = shared_login.daemon
    pid, fd = in_a_terminal(daemon.env, "shell", "web-01", "--name", "top-box")
    assert b"root@web-01" in drain_pty(fd, 10.0, b"root@web-01")
    os.write(fd, b"top -d 1\r")
    first = drain_pty(fd, 5.0, b"load average")
    assert b"load average" in first
    assert b"detached; the session keeps running" in detach_and_close(pid, fd)

    with daemon.client() as client:
        before = client.call("session.get", session="top-box")["session"]
        time.sleep(2.5)  # nobody attached: top goes on refreshing its screen
        after = client.call("session.get", session="top-box")["session"]
        assert after["state"] == "live" and after["end_offset"] > before["end_offset"]
    assert "load average" in daemon.cli("screen", "top-box").stdout

    pid, fd = in_a_terminal(daemon.env, "attach", "top-box")
    again = drain_pty(fd, 5.0, b"load average")
    assert b"load average" in again  # recent output first, then top's live refreshes
    os.write(fd, b"q")  # quit top: the shell prompt comes back in the same session
    assert b"root@web-01" in drain_pty(fd, 5.0, b"root@web-01")
    os.write(fd, b"echo back-$((6*7))\r")
    assert b"back-42" in drain_pty(fd, 5.0, b"back-42")
    detach_and_close(pid, fd)
    daemon.cli("kill", "top-box")


def test_resize_screen_rename_and_kill(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    with daemon.client() as client:
        session = open_session(client, "web-01", cols=100, rows=30)
        client.call("session.resize", session=session, cols=132, rows=43)
        run = client.call("run.start", session=session, command="stty size </dev/tty", wait=20)
        assert run["output"].strip() == b"43 132"
        client.call(
            "session.write",
            session=session,
            data="printf '\\033[2J\\033[5;10HFULLSCREEN-TEXT'; sleep 2\r",
        )
        time.sleep(1.0)
        screen = client.call("session.screen", session=session)
        assert screen["cols"] == 132 and screen["rows"] == 43
        assert screen["lines"][4][9:24] == "FULLSCREEN-TEXT"
        assert "FULLSCREEN-TEXT" in daemon.cli("screen", session).stdout
        assert daemon.cli("rename", session, "build-box").returncode == 0
        listed = json.loads(daemon.cli("sessions", "--json").stdout)["sessions"]
        assert any(s["name"] == "build-box" for s in listed)
        killed = daemon.cli("kill", "build-box")
        assert killed.returncode == 0
        state = client.call("session.get", session=session)["session"]
        assert state["state"] == "closed" and "killed" in state["reason"]


def test_kill_many_is_all_or_nothing_and_closes_them_together(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    with daemon.client() as client:
        sessions = [open_session(client, "web-01") for _ in range(3)]
        refused = daemon.cli("kill", *sessions, "no-such-session")
        assert refused.returncode != 0 and "no-such-session" in refused.stderr
        states = {client.call("session.get", session=s)["session"]["state"] for s in sessions}
        assert states == {"live"}  # a bad reference kills nothing
        killed = daemon.cli("kill", "--json", *sessions)
        assert killed.returncode == 0, killed.stderr
        assert sorted(s["id"] for s in json.loads(killed.stdout)["killed"]) == sorted(sessions)
        for session in sessions:
            state = client.call("session.get", session=session)["session"]
            assert state["state"] == "closed" and "killed" in state["reason"]


def test_fifty_sessions_in_parallel(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    results: list[int] = []

    def one(index: int) -> None:
        with daemon.client() as client:
            session = open_session(client, ["web-01", "web-02", "db-01"][index % 3])
            run = client.call("run.start", session=session, command=f"echo n{index}", wait=60)
            assert run["output"].strip() == f"n{index}".encode()
            results.append(index)
            client.call("session.kill", sessions=[session])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == list(range(50))


def test_dropped_websocket_makes_the_session_lost_with_a_reason(fresh_sandbox: Any) -> None:
    with fresh_sandbox("--no-throttle") as sandbox, DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        with daemon.client() as client:
            session = open_session(client)
            sandbox.control().koko(drop_after_bytes=20000)
            client.call("session.write", session=session, data="seq 1 100000\r")
            deadline = time.monotonic() + 60
            while True:
                info = client.call("session.get", session=session)["session"]
                if info["state"] == "lost":
                    break
                assert time.monotonic() < deadline, info
                time.sleep(0.2)
            assert info["reason"]
            page = client.call("session.read", session=session, offset=0)
            assert page["state"] == "lost" and page["data"]


def test_expired_web_session_gives_a_clear_error_and_open_sessions_keep_working(
    fresh_sandbox: Any,
) -> None:
    with fresh_sandbox("--no-throttle") as sandbox, DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        with daemon.client() as client:
            session = open_session(client)
            sandbox.control().expire_sessions()
            run = client.call("run.start", session=session, command="echo still-open", wait=20)
            assert run["output"].strip() == b"still-open"
        refused = daemon.cli("exec", "db-01", "--", "true")
        assert refused.returncode == 1
        assert "has expired" in refused.stderr and "jsctl login" in refused.stderr
        assert "Traceback" not in refused.stderr and "302" not in refused.stderr
