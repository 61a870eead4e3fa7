"""resolve_asset / resolve_account / complete, the API the sessions and policy layers use."""

from __future__ import annotations

from pathlib import Path

import pytest
from directory_support import open_domain
from jsctl_fixtures import LoggedIn

from jsctl_daemon.auth import NotLoggedIn
from jsctl_daemon.directory import Ambiguous, NotInDirectory, OutsideAllowList


async def test_asset_by_name_address_id_prefix_and_case(
    shared_login: LoggedIn, tmp_path: Path
) -> None:
    async with open_domain(shared_login.daemon, tmp_path) as directory:
        asset = await directory.resolve_asset(None, "web-01")
        assert (asset.name, asset.address, asset.platform) == ("web-01", "10.0.1.11", "Linux")
        assert set(asset.protocols) == {"ssh", "sftp"}
        assert asset.node_paths == ("/DEFAULT/web",)
        assert asset.org_id == "00000000-0000-0000-0000-000000000002"
        for ref in ("10.0.1.11", asset.id, asset.id[:6], "Web-01"):
            assert (await directory.resolve_asset("default", ref)).id == asset.id


async def test_ambiguous_not_found_and_similar(shared_login: LoggedIn, tmp_path: Path) -> None:
    async with open_domain(shared_login.daemon, tmp_path) as directory:
        with pytest.raises(Ambiguous) as ambiguous:
            await directory.resolve_asset(None, "web")
        assert [c["name"] for c in ambiguous.value.data["candidates"]] == ["web-01", "web-02"]
        with pytest.raises(NotInDirectory) as missing:
            await directory.resolve_asset(None, "b-0")
        assert missing.value.data["similar"] == ["db-01", "web-01", "web-02"]
        with pytest.raises(NotInDirectory):
            await directory.resolve_asset(None, "stg-web-01")  # only in org Staging
        assert (await directory.resolve_asset(None, "stg-web-01", "Staging")).name == "stg-web-01"


async def test_allow_list_filters_and_forbids(shared_login: LoggedIn, tmp_path: Path) -> None:
    def only_web_02(name: str, nodes: tuple[str, ...]) -> bool:
        return name == "web-02"

    async with open_domain(shared_login.daemon, tmp_path) as directory:
        assert (await directory.resolve_asset(None, "web", allowed=only_web_02)).name == "web-02"
        with pytest.raises(OutsideAllowList):
            await directory.resolve_asset(None, "web-01", allowed=only_web_02)
        listing = await directory.list_assets(allowed=lambda _n, nodes: "/DEFAULT/db" in nodes)
        assert [a["name"] for a in listing["assets"]] == ["db-01"]
        assert directory.complete("asset", "", allowed=only_web_02) == ["web-02"]


async def test_accounts_by_alias_name_username_and_default(
    shared_login: LoggedIn, tmp_path: Path
) -> None:
    async with open_domain(shared_login.daemon, tmp_path) as directory:
        asset = await directory.resolve_asset(None, "web-02")
        default = await directory.resolve_account(None, asset, None)
        assert (default.name, default.username, default.is_virtual) == ("deploy", "deploy", False)
        assert default.alias != "deploy" and "connect" in default.actions
        manual = await directory.resolve_account(None, asset, "@input")
        assert (manual.alias, manual.is_virtual) == ("@INPUT", True)
        assert (await directory.resolve_account(None, asset, "Dynamic user")).alias == "@USER"
        assert (await directory.resolve_account(None, asset, default.alias)).name == "deploy"
        with pytest.raises(NotInDirectory) as missing:
            await directory.resolve_account(None, asset, "root")  # exists, but not for mei
        assert "@INPUT" in str(missing.value)
        with pytest.raises(OutsideAllowList):
            await directory.resolve_account(
                None, asset, "@INPUT", allowed=lambda name, user: name == "deploy"
            )
        assert directory.complete("account", "", asset="web-02") == ["deploy", "@INPUT", "@USER"]


async def test_asset_deleted_between_list_and_use(shared_login: LoggedIn, tmp_path: Path) -> None:
    control = shared_login.sandbox.control()
    async with open_domain(shared_login.daemon, tmp_path) as directory:
        listing = await directory.list_assets(pattern="db-01")
        asset_id = listing["assets"][0]["id"]
        control.add_fault(f"/api/v1/perms/users/self/assets/{asset_id}/", status=404)
        try:
            with pytest.raises(NotInDirectory) as gone:
                await directory.resolve_asset(None, "db-01")
            assert gone.value.data["gone"]
            assert "no longer shown" in str(gone.value)
            assert (await directory.list_assets(pattern="db-01"))["total"] == 0
        finally:
            control.reset()
        assert (await directory.list_assets(pattern="db-01", refresh=True))["total"] == 1


async def test_no_profile_is_a_login_error(jsctl_daemon, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (jsctl_daemon.paths.state_dir / "profiles").mkdir(parents=True, exist_ok=True)
    async with open_domain(jsctl_daemon, tmp_path) as directory:
        with pytest.raises(NotLoggedIn):
            await directory.resolve_asset(None, "web-01")
        assert directory.complete("asset", "w") == []
