"""Web login, captcha, MFA, access keys and session expiry against the sandbox."""

from __future__ import annotations

import pytest

from jsctl_daemon.jumpserver.access_keys import (
    ACCESS_KEYS,
    ConfirmSecret,
    create_access_key,
    revoke_access_key,
)
from jsctl_daemon.jumpserver.api import JumpServerAPI
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import (
    AccessKeyLimit,
    AccessKeyRevoked,
    AuthFailed,
    LoginRequired,
    NotAJumpServer,
)
from jsctl_daemon.jumpserver.login_steps import (
    LoggedIn,
    NeedCaptcha,
    NeedMfaCode,
    NeedPassword,
)
from jsctl_daemon.jumpserver.web_login import WebLogin
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo

from .conftest import logged_in, server_config


async def test_mfa_login_then_access_key_signs_rest(sandbox: SandboxInfo) -> None:
    sandbox.control().clear_access_keys("mei")  # the shared server keeps at most 10 per user
    async with Connection(server_config(sandbox)) as conn:
        login = WebLogin(conn, "mei")
        assert isinstance(await login.start(), NeedPassword)
        step = await login.answer(password=sandbox.user("mei").password)
        assert step == NeedMfaCode(mfa_type="otp")
        step = await login.answer(code=sandbox.totp_now("mei"))
        assert isinstance(step, LoggedIn) and step.username == "mei"
        assert conn.cookie("django_language") is None
        key = await login.create_access_key()
        signed = Connection(server_config(sandbox), access_key=key)
        async with signed:  # no cookies at all: the signature alone authenticates
            assert (await JumpServerAPI(signed).profile()).username == "mei"
            # A disabled key reads as "Invalid signature." (401): log in again.
            await conn.request("PATCH", f"{ACCESS_KEYS}{key.id}/", json={"is_active": False})
            with pytest.raises(LoginRequired) as info:
                await JumpServerAPI(signed).profile()
            assert "jsctl login --profile work" in str(info.value.for_profile("work"))
            # A deleted (revoked) key is a 401 too; without a web session nothing stands in.
            await revoke_access_key(conn, key.id)
            with pytest.raises(AccessKeyRevoked, match="revoked on the server"):
                await JumpServerAPI(signed).profile()


async def test_password_only_user_gets_a_key_and_a_live_web_session(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "admin", with_key=True) as conn:
        api = JumpServerAPI(conn)
        assert await api.web_session_alive()
        assert await api.keepalive()
        assert conn.access_key is not None
        assert (await api.profile()).is_superuser


async def test_wrong_mfa_code_can_be_retried(sandbox: SandboxInfo) -> None:
    async with Connection(server_config(sandbox)) as conn:
        login = WebLogin(conn, "mei")
        await login.start()
        await login.answer(password=sandbox.user("mei").password)
        with pytest.raises(AuthFailed) as failed:
            await login.answer(code="000000" if sandbox.totp_now("mei") != "000000" else "111111")
        assert failed.value.code == "mfa_failed"
        assert failed.value.retry == NeedMfaCode(mfa_type="otp")
        step = await login.answer(code=sandbox.totp_now("mei"))
        assert isinstance(step, LoggedIn)


async def test_wrong_password_then_captcha(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        control = sb.control()
        async with Connection(server_config(sb)) as conn:
            login = WebLogin(conn, "admin")
            await login.start()
            with pytest.raises(AuthFailed) as failed:
                await login.answer(password="wrong password")
            assert failed.value.code == "login_failed"
            assert "try" in failed.value.server_message  # the server's own words are kept
            assert failed.value.retry == NeedPassword()
            # This IP is now marked: the form asks for a captcha before checking passwords.
            step = await login.answer(password=sb.user("admin").password)
            assert isinstance(step, NeedCaptcha)
            assert step.image_png.startswith(b"\x89PNG")
            step = await login.answer(captcha="not a number")
            assert isinstance(step, NeedCaptcha) and step.error
            answer = control.captcha_answer(step.key)
            step = await login.answer(captcha=answer)
            assert isinstance(step, LoggedIn)


async def test_half_login_expiry_says_start_again(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        async with Connection(server_config(sb)) as conn:
            login = WebLogin(conn, "mei")
            await login.start()
            await login.answer(password=sb.user("mei").password)
            sb.control().advance_clock(601)
            with pytest.raises(AuthFailed) as failed:
                await login.answer(code=sb.totp_now("mei"))
            assert failed.value.code == "session_expired"
            assert "start again" in str(failed.value)


async def test_expired_web_session_is_login_required(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        async with logged_in(sb, "admin", with_key=True) as conn:
            api = JumpServerAPI(conn)
            assert await api.web_session_alive()
            sb.control().expire_sessions()
            assert not await api.web_session_alive()
            assert not await api.keepalive()
            with pytest.raises(LoginRequired, match="has expired"):
                await api.profile(cookie_only=True)
            assert (await api.profile()).username == "admin"  # the access key still works


@pytest.mark.parametrize("version", ["4.10.17", "4.10.19", "3.10.23"])
async def test_encrypted_password_on_each_separator_version(
    fresh_sandbox: SandboxFactory, version: str
) -> None:
    with fresh_sandbox("--no-throttle", "--server-version", version) as sb:
        async with logged_in(sb, "mei") as conn:
            assert (await JumpServerAPI(conn).profile(cookie_only=True)).username == "mei"
            assert sb.control().counters().get("login_failures", 0) == 0


async def test_eleventh_access_key_is_refused_clearly(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        async with logged_in(sb, "admin") as conn:
            secret = ConfirmSecret(password=sb.user("admin").password)
            keys = [await create_access_key(conn, secret) for _ in range(10)]
            assert len({k.id for k in keys}) == 10
            with pytest.raises(AccessKeyLimit, match="delete unused ones"):
                await create_access_key(conn, secret)
            await revoke_access_key(conn, keys[0].id)
            assert (await create_access_key(conn, secret)).id


async def test_login_page_garbage_is_not_a_jumpserver(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        sb.control().add_fault("/core/auth/login/", "garbage", times=1)
        async with Connection(server_config(sb)) as conn:
            with pytest.raises(NotAJumpServer, match="no login form"):
                await WebLogin(conn, "admin").start()
