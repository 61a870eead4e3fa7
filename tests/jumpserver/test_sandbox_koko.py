"""KoKo terminals through the whole sandbox: web login, connection token, WSS terminal."""

from __future__ import annotations

import pytest

from jsctl_daemon.jumpserver.api import JumpServerAPI
from jsctl_daemon.jumpserver.errors import (
    LoginRequired,
    TerminalClosed,
    TerminalLost,
    TerminalRefused,
)
from jsctl_daemon.jumpserver.koko import open_terminal
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo

from .conftest import drain_until_end, logged_in, read_until


async def _token(api: JumpServerAPI) -> str:
    asset = (await api.assets())[0]
    detail = await api.asset(asset.id)
    account = next(a for a in detail.accounts if not a.is_virtual)
    return (await api.create_connection_token(asset.id, account.alias)).id


async def test_terminal_echo_resize_exit(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "mei", with_key=True) as conn:
        api = JumpServerAPI(conn)
        token = await _token(api)
        async with open_terminal(
            conn.config, conn.cookie_header(), token, cols=90, rows=20
        ) as term:
            await term.send_input(b"stty size; echo ok-$((6*7))\r")
            out = await read_until(term, b"ok-42")
            assert b"20 90" in out
            await term.resize(132, 43)
            await term.send_input(b"stty size\r")
            await read_until(term, b"43 132")
            assert term.info["session"]["id"]
            await term.send_input(b"exit\r")
            with pytest.raises(TerminalClosed, match="remote session ended"):
                await drain_until_end(term)
        # KoKo consumed the token: a second use is refused with KoKo's own words.
        with pytest.raises(TerminalRefused, match=r"[Ee]xpired|invalid"):
            async with open_terminal(conn.config, conn.cookie_header(), token):
                pass


async def test_expired_web_session_is_login_required(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        async with logged_in(sb, "admin", with_key=True) as conn:
            token = await _token(JumpServerAPI(conn))
            sb.control().expire_sessions()
            with pytest.raises(LoginRequired, match="jsctl login"):
                async with open_terminal(conn.config, conn.cookie_header(), token):
                    pass


async def test_dropped_socket_is_terminal_lost(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        async with logged_in(sb, "admin", with_key=True) as conn:
            token = await _token(JumpServerAPI(conn))
            sb.control().koko(drop_after_bytes=2000)
            async with open_terminal(conn.config, conn.cookie_header(), token) as term:
                await term.send_input(b"yes | head -c 100000\r")
                with pytest.raises(TerminalLost, match="dropped"):
                    await drain_until_end(term)


@pytest.mark.parametrize("prefix", ["", "corp_"])
async def test_cookie_prefix_discovery(fresh_sandbox: SandboxFactory, prefix: str) -> None:
    with fresh_sandbox("--no-throttle", "--cookie-prefix", prefix) as sb:
        async with logged_in(sb, "admin") as conn:  # cookies only: CSRF name must be right too
            assert conn.cookie_prefix == prefix
            assert conn.cookie(f"{prefix}sessionid") is not None
            token = await _token(JumpServerAPI(conn))
            async with open_terminal(conn.config, conn.cookie_header(), token) as term:
                await term.send_input(b"echo prefix-$((2+3))\r")
                await read_until(term, b"prefix-5")
