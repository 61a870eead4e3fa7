"""SIGTERM stops the sandbox with exit code 0 and kills the assets' PTY shells."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time

import trio
from trio_websocket import open_websocket_url

from jsctl_sandbox.testing import (
    SandboxInfo,
    csrf_headers,
    parse_announcement,
    wait_ready,
    web_login,
)


def shell_alive(marker: str) -> bool:
    return subprocess.run(["pgrep", "-f", marker], capture_output=True).returncode == 0


async def wait_for(alive: bool, marker: str) -> None:
    """Poll (pgrep has no event to wait on) until the shell's liveness equals ``alive``."""
    for _ in range(100):
        if shell_alive(marker) == alive:
            return
        await trio.sleep(0.1)
    raise AssertionError(f"{marker!r} still alive={not alive} after 10 s")


def start_sandbox() -> tuple[subprocess.Popen[str], SandboxInfo]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "jsctl_sandbox", "--json", "--port", "0", "--no-throttle"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info = parse_announcement(proc.stdout.readline(), proc.pid)
    wait_ready(info, time.monotonic() + 20)
    return proc, info


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


async def test_sigterm_exits_zero_and_kills_shells() -> None:
    proc, info = start_sandbox()
    try:
        c = web_login(info, "admin")
        asset = c.get("/api/v1/perms/users/self/assets/").json()[0]
        body = {
            "asset": asset["id"],
            "account": "@USER",
            "protocol": "ssh",
            "connect_method": "web_cli",
        }
        token = c.post(
            "/api/v1/authentication/connection-token/", json=body, headers=csrf_headers(info, c)
        ).json()
        marker = f"sleep {40000 + os.getpid() % 20000}"
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        context = ssl.create_default_context(cafile=info.ca_file)
        url = f"{info.ws_url}/koko/ws/terminal/?token={token['id']}"
        async with open_websocket_url(
            url, ssl_context=context, extra_headers=[(b"Cookie", cookie.encode())]
        ) as ws:
            connect = json.loads(await ws.get_message())
            init = json.dumps({"cols": 80, "rows": 24, "code": ""})
            await ws.send_message(
                json.dumps({"id": connect["id"], "type": "TERMINAL_INIT", "data": init})
            )
            # As with KoKo, keys typed before the shell relays (TERMINAL_SESSION) are not its.
            while True:
                message = await ws.get_message()
                if isinstance(message, str) and '"TERMINAL_SESSION"' in message:
                    break
                if isinstance(message, bytes) and message.endswith(b"password: "):
                    # @USER is a dynamic account: KoKo asks for the user's own password.
                    answer = info.user("admin").password + "\r"
                    await ws.send_message(
                        json.dumps({"id": "", "type": "TERMINAL_DATA", "data": answer})
                    )
            await ws.send_message(
                json.dumps({"id": "", "type": "TERMINAL_DATA", "data": marker + "\r"})
            )
            await wait_for(True, marker)
            proc.send_signal(signal.SIGTERM)
            assert await trio.to_thread.run_sync(lambda: proc.wait(timeout=15)) == 0
        await wait_for(False, marker)
    finally:
        stop(proc)
