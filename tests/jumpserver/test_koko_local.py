"""The KoKo client against the sandbox's real KoKo endpoint served bare (tight timing knobs).

These use S2's in-memory backend helper so server-side timing (pings, faults) can be set per
test; the full-stack terminal tests against the complete sandbox live in test_sandbox_koko.py.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import trio
from sandbox.test_koko_support import (  # type: ignore[import-not-found,unused-ignore]
    ALICE,
    BOB,
    InMemoryKokoBackend,
    serve_koko,
)

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import (
    LoginRequired,
    TerminalClosed,
    TerminalLost,
    TerminalRefused,
    Unreachable,
)
from jsctl_daemon.jumpserver.koko import KokoSettings, open_terminal
from jsctl_sandbox.koko_contract import KokoSettings as ServerSettings
from jsctl_sandbox.koko_contract import KokoUser

from .conftest import drain_until_end, read_until


@dataclass
class Site:
    backend: InMemoryKokoBackend
    config: ServerConfig

    def cookie(self, user: KokoUser = ALICE) -> str:
        return f"jms_sessionid={self.backend.login(user)}; jms_csrftoken=x"


@asynccontextmanager
async def site(**server: object) -> AsyncIterator[Site]:
    with tempfile.TemporaryDirectory() as workdir:
        backend = InMemoryKokoBackend(Path(workdir), ServerSettings(**server))  # type: ignore[arg-type]
        async with serve_koko(backend) as base:
            yield Site(backend, ServerConfig(base.replace("ws://", "http://")))


async def test_echo_resize_info_and_exit() -> None:
    async with site() as s:
        token = s.backend.issue_token(ALICE)
        async with open_terminal(s.config, s.cookie(), token, cols=100, rows=30) as term:
            await read_until(term, b"$ ")
            await term.send_input(b"stty size; echo hi-$((40+2))\r")
            out = await read_until(term, b"hi-42")
            assert b"30 100" in out
            await term.resize(120, 40)
            await term.send_input(b"stty size\r")
            await read_until(term, b"40 120")
            assert term.info["session"]["asset"]
            await term.send_input(b"exit 3\r")
            with pytest.raises(TerminalClosed):
                await drain_until_end(term)
            with pytest.raises(TerminalClosed):
                await term.receive()  # stays ended
            with pytest.raises(TerminalClosed):
                await term.send_input(b"x")


async def test_non_utf8_input_goes_as_binary() -> None:
    async with site() as s:
        token = s.backend.issue_token(ALICE)
        async with open_terminal(s.config, s.cookie(), token) as term:
            await read_until(term, b"$ ")
            # "été" split mid-character: each chunk alone is not UTF-8, so goes as binary.
            await term.send_input(b"echo X\xc3")
            await term.send_input(b"\xa9t\xc3")
            await term.send_input(b"\xa9X\r")
            await read_until(term, "X\u00e9t\u00e9X".encode())


async def test_missing_cookie_is_login_required() -> None:
    async with site() as s:
        token = s.backend.issue_token(ALICE)
        with pytest.raises(LoginRequired, match="jsctl login"):
            async with open_terminal(s.config, "jms_sessionid=nope", token):
                pass


async def test_error_before_connect_is_refused_with_kokos_text() -> None:
    async with site() as s:
        with pytest.raises(TerminalRefused, match="Token invalid"):
            async with open_terminal(s.config, s.cookie(), "not-a-token"):
                pass


async def test_user_mismatch_times_out_clearly() -> None:
    async with site() as s:
        token = s.backend.issue_token(BOB)
        settings = KokoSettings(connect_timeout=1.0)
        with pytest.raises(TerminalRefused, match="different user"):
            async with open_terminal(s.config, s.cookie(ALICE), token, settings=settings):
                pass


async def test_server_drop_is_terminal_lost() -> None:
    async with site(drop_after_bytes=1) as s:
        token = s.backend.issue_token(ALICE)
        async with open_terminal(s.config, s.cookie(), token) as term:
            with pytest.raises(TerminalLost, match="dropped"):
                await drain_until_end(term)


async def test_silent_server_is_terminal_lost() -> None:
    async with site(server_ping_after_s=3600.0) as s:
        token = s.backend.issue_token(ALICE)
        settings = KokoSettings(liveness=1.0, ping_interval=3600.0)
        async with open_terminal(s.config, s.cookie(), token, settings=settings) as term:
            await read_until(term, b"$ ")
            with pytest.raises(TerminalLost, match="sent nothing"):
                await drain_until_end(term)


async def test_client_pings_keep_the_read_deadline_alive() -> None:
    # The server drops readers silent for 2 s; our 0.5 s pings must keep it open past that.
    async with site(read_deadline_s=2.0, server_ping_after_s=0.5) as s:
        token = s.backend.issue_token(ALICE)
        settings = KokoSettings(ping_interval=0.5)
        async with open_terminal(s.config, s.cookie(), token, settings=settings) as term:
            await read_until(term, b"$ ")
            with trio.move_on_after(4.0):
                while True:
                    await term.receive()
            await term.send_input(b"echo still-$((1+1))\r")
            await read_until(term, b"still-2")


async def test_unreachable_server() -> None:
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = ServerConfig(f"http://127.0.0.1:{port}")
    with pytest.raises(Unreachable, match="cannot reach JumpServer"):
        async with open_terminal(config, "", "t"):
            pass


async def test_live_only_once_koko_relays_the_shell() -> None:
    # KoKo's "Connecting to …" phase takes a while; the terminal is handed over only after it.
    async with site(asset_connect_s=0.6) as s:
        token = s.backend.issue_token(ALICE)
        started = trio.current_time()
        async with open_terminal(s.config, s.cookie(), token) as term:
            assert trio.current_time() - started >= 0.6
            assert term.info["session"]["asset"]
            await term.send_input(b"echo first-$((5*5))\r")  # reaches the shell, not a prompt
            out = await read_until(term, b"first-25")
            assert out.startswith(b"Connecting to root(root)@10.0.0.11  0.0")


async def test_password_prompt_hands_the_terminal_over_not_relaying() -> None:
    async with site() as s:
        s.backend.needs_password = True
        async with open_terminal(s.config, s.cookie(), s.backend.issue_token(ALICE)) as term:
            assert term.info["relaying"] is False
            assert term.info["connect_prompt"] == "root(root)'s password:"
            await term.send_input(b"s3cret\r")  # a person's answer (jsctl secret)
            assert "connect_prompt" not in term.info
            await term.send_input(b"echo after-$((2*21))\r")  # KoKo relays the shell first
            out = await read_until(term, b"after-42")
            assert term.info["relaying"] is True and b"s3cret" not in out


async def test_connect_error_refuses_with_kokos_line() -> None:
    async with site(asset_login_error="dial tcp 10.0.0.11:22: i/o timeout") as s:
        with pytest.raises(TerminalRefused) as refused:
            async with open_terminal(s.config, s.cookie(), s.backend.issue_token(ALICE)):
                pass
        assert "Connecting to root(root)@10.0.0.11 error: dial tcp 10.0.0.11:22: i/o timeout" in (
            str(refused.value)
        )


async def test_close_carries_kokos_red_notice() -> None:
    async with (
        site(max_session_s=0.8, limits_tick_s=0.1) as s,
        open_terminal(s.config, s.cookie(), s.backend.issue_token(ALICE)) as term,
    ):
        with pytest.raises(TerminalClosed) as closed:
            await drain_until_end(term)
        assert closed.value.reason == "KoKo ended the session: Session max time reached, disconnect"
