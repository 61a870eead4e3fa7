"""REST calls (signed and by cookie), paging, tokens and failure mapping against the sandbox."""

from __future__ import annotations

import pytest
import trio

from jsctl_daemon.jumpserver.api import JumpServerAPI
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.connection import Connection
from jsctl_daemon.jumpserver.errors import (
    BadResponse,
    InvalidRequest,
    NotAJumpServer,
    NotFound,
    RateLimited,
    ServerError,
    TLSFailure,
    Unreachable,
)
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo

from .conftest import logged_in, server_config


async def test_discovery_shapes(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "admin", with_key=True) as conn:
        api = JumpServerAPI(conn)
        assert (await api.health())["status"] is True
        orgs = await api.orgs()
        assert any(o.is_default for o in orgs)
        assert (await api.current_org()).is_default
        other = next(o for o in orgs if not (o.is_default or o.is_root or o.is_system))
        assert (await api.current_org(org=other.id)).id == other.id  # sent as X-JMS-ORG
        assets = await api.assets()
        assert assets and all(a.id and a.name for a in assets)
        detail = await api.asset(assets[0].id)
        assert detail.asset.id == assets[0].id
        assert any(p.name == "ssh" for p in detail.protocols)
        assert any(a.alias == "@INPUT" and a.is_virtual for a in detail.accounts)
        nodes = await api.nodes()
        assert any(n.key == "favorite" for n in nodes)
        root = next(n for n in nodes if n.key == "1")
        tree = await api.node_tree(root.key, with_assets=True)
        assert tree and {t.kind for t in tree} <= {"node", "asset"}
        methods = await api.connect_methods()
        assert any(m.get("value") == "web_cli" for m in methods["ssh"])
        with pytest.raises(NotFound):
            await api.asset("00000000-0000-0000-0000-00000000beef")


async def test_paging_collects_every_asset_exactly_once(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle", "--assets", "230") as sb:
        async with logged_in(sb, "admin", with_key=True) as conn:
            api = JumpServerAPI(conn)
            pages = [page async for page in api.iter_assets(page_size=100)]
            assert [len(p) for p in pages][:2] == [100, 100]
            ids = [a.id for page in pages for a in page]
            assert len(ids) == len(set(ids))
            unpaged = await conn.get_json("/api/v1/perms/users/self/assets/")
            assert len(ids) > len(unpaged) == 200  # the bare list is capped; paging is not
            found = await api.assets(search="web")
            assert found and all("web" in a.name or "web" in a.address for a in found)


async def test_connection_token_lifecycle(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "admin", with_key=True) as conn:
        api = JumpServerAPI(conn)
        asset = (await api.assets())[0]
        token = await api.create_connection_token(asset.id, "@INPUT", input_username="root")
        assert token.asset_id == asset.id and token.is_active and token.expire_time > 0
        fresh = await api.exchange_connection_token(token.id)
        assert fresh.id != token.id and fresh.asset_id == asset.id
        await api.expire_connection_token(token.id)
        await api.expire_connection_token(token.id)  # already expired: 404 counts as done
        with pytest.raises(InvalidRequest) as refused:
            await api.create_connection_token(asset.id, "no-such-account")
        assert refused.value.code == "perm_account_invalid"


async def test_cookie_only_rest_sends_csrf(sandbox: SandboxInfo) -> None:
    async with logged_in(sandbox, "admin") as conn:  # no access key: cookies + CSRF
        api = JumpServerAPI(conn)
        asset = (await api.assets())[0]
        token = await api.create_connection_token(asset.id, "@INPUT", input_username="root")
        await api.expire_connection_token(token.id)


async def test_server_faults_become_clear_errors(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        control = sb.control()
        async with logged_in(sb, "admin", with_key=True) as conn:
            api = JumpServerAPI(conn)
            control.add_fault("/api/v1/users/profile/", "status", status=502, times=1)
            with pytest.raises(ServerError, match="502 at GET /api/v1/users/profile/"):
                await api.profile()
            control.add_fault("/api/v1/users/profile/", "garbage", times=1)
            with pytest.raises(BadResponse, match="/api/v1/users/profile/"):
                await api.profile()
            assert (await api.profile()).username == "admin"
            control.add_fault("/api/health/", "garbage", times=1)
            with pytest.raises(NotAJumpServer):
                await api.health()
            control.add_fault("/api/v1/users/profile/", "slow", delay=5.0, times=1)
            async with Connection(ServerConfig(sb.url, ca_file=sb.ca_file, timeout=0.5)) as slow:
                with pytest.raises(Unreachable, match=r"no answer within 0\.5 s"):
                    await JumpServerAPI(slow).profile()


async def test_untrusted_certificate_and_closed_port(sandbox: SandboxInfo) -> None:
    async with Connection(ServerConfig(sandbox.url)) as conn:  # the sandbox CA is not trusted
        with pytest.raises(TLSFailure, match="--ca-file"):
            await JumpServerAPI(conn).health()
    async with Connection(ServerConfig(sandbox.url, insecure=True)) as conn:
        assert (await JumpServerAPI(conn).health())["status"] is True
    with trio.socket.socket() as sock:
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with Connection(ServerConfig(f"https://127.0.0.1:{port}")) as conn:
        with pytest.raises(Unreachable, match="cannot reach JumpServer"):
            await JumpServerAPI(conn).health()


async def test_throttling_becomes_rate_limited(fresh_sandbox: SandboxFactory) -> None:
    with fresh_sandbox("--no-throttle") as sb:
        sb.control().set_throttle(True)
        async with Connection(server_config(sb)) as conn:  # anonymous: 60 a minute per IP
            api = JumpServerAPI(conn)
            with pytest.raises(RateLimited) as limited:
                for _ in range(200):
                    await api.health()
            assert limited.value.retry_after is not None
            assert "rate-limiting" in str(limited.value)
