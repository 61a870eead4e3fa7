"""Unicode and odd names, look-alike accounts, and a user with no permitted assets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from directory_support import cli_json, cli_tty, open_domain
from jsctl_fixtures import login
from jsctl_testing import DaemonProcess, short_tempdir

from jsctl_daemon.directory import Ambiguous
from jsctl_sandbox.testing import SandboxInfo, running_sandbox

CONFIG = r"""
orgs = [{name = "Default"}]

[[users]]
username = "mei"
password = "mei-password-1"

[[users]]
username = "lonely"
password = "lonely-password-1"

[[assets]]
name = "数据库-主"
address = "10.1.0.1"
nodes = ["/Default/中文"]
comment = "主库 — primary"

[[assets]]
name = "Ärzte-Portal"
address = "10.1.0.2"
nodes = ["/Default/odd"]

[[assets]]
name = "web 01 (old)"
address = "10.1.0.3"
nodes = ["/Default/odd"]

[[assets]]
name = "evil\u001b[31mred"
address = "10.1.0.4"
nodes = ["/Default/odd"]
comment = "line1\nline2"

[[assets]]
name = "web"
address = "10.1.0.5"
nodes = ["/Default/odd"]

[[assets]]
name = "web-2"
address = "10.1.0.6"
nodes = ["/Default/odd"]
accounts = [{name = "root"}, {name = "deploy"}, {name = "deploy2", username = "deploy"}]

[[permissions]]
name = "mei-all"
users = ["mei"]
nodes = ["/Default"]
accounts = ["@ALL", "@INPUT"]
"""
ODD_NAMES = ["web", "web 01 (old)", "web-2", "Ärzte-Portal", "evil\x1b[31mred", "数据库-主"]


@pytest.fixture(scope="module")
def odd_sandbox() -> Iterator[SandboxInfo]:
    config = short_tempdir("jsodd") / "sandbox.toml"
    config.write_text(CONFIG, encoding="utf-8")
    with running_sandbox("--no-throttle", "--config", str(config)) as info:
        yield info


@pytest.fixture(scope="module")
def mei(odd_sandbox: SandboxInfo) -> Iterator[DaemonProcess]:
    with DaemonProcess.started() as daemon:
        login(daemon, odd_sandbox, "mei")
        yield daemon


def test_odd_names_survive_the_round_trip(mei: DaemonProcess) -> None:
    listing = cli_json(mei, "assets")
    assert sorted(a["name"] for a in listing["assets"]) == sorted(ODD_NAMES)
    assert {a["name"]: a["comment"] for a in listing["assets"]}["数据库-主"] == "主库 — primary"
    assert cli_json(mei, "assets", "--node", "中文")["assets"][0]["nodes"] == ["/DEFAULT/中文"]


def test_odd_names_resolve(mei: DaemonProcess) -> None:
    for ref, name in [
        ("数据库-主", "数据库-主"),
        ("ärzte-portal", "Ärzte-Portal"),
        ("web", "web"),
        ("web 01 (old)", "web 01 (old)"),
        ("数据", "数据库-主"),
    ]:
        assert cli_json(mei, "asset", "show", ref)["asset"]["name"] == name
    assert cli_json(mei, "assets", "ÄRZTE")["total"] == 1


def test_tables_escape_control_characters(mei: DaemonProcess) -> None:
    out = cli_tty(mei, "assets", "evil")
    assert "\x1b" not in out
    assert "evil\\x1b[31mred" in out and "line1\\nline2" in out


def test_look_alike_accounts(mei: DaemonProcess) -> None:
    result = mei.cli("asset", "show", "web-2")
    assert result.returncode == 0
    accounts = cli_json(mei, "accounts", "web-2")["accounts"]
    assert [a["name"] for a in accounts] == ["root", "deploy", "deploy2", "Manual input"]


async def test_account_resolution_among_look_alikes(mei: DaemonProcess, tmp_path: Path) -> None:
    async with open_domain(mei, tmp_path) as directory:
        asset = await directory.resolve_asset(None, "web-2")
        with pytest.raises(Ambiguous) as several:
            await directory.resolve_account(None, asset, None)
        assert "root" in str(several.value) and "deploy2" in str(several.value)
        assert (await directory.resolve_account(None, asset, "deploy")).name == "deploy"
        assert (await directory.resolve_account(None, asset, "DEPLOY2")).name == "deploy2"
        assert (await directory.resolve_account(None, asset, "@INPUT")).is_virtual


def test_no_permitted_assets(odd_sandbox: SandboxInfo) -> None:
    with DaemonProcess.started() as daemon:
        login(daemon, odd_sandbox, "lonely")
        listing = cli_json(daemon, "assets")
        assert listing["assets"] == [] and listing["total"] == 0
        assert "no permitted assets match" in cli_tty(daemon, "assets")
        result = daemon.cli("asset", "show", "web")
        assert result.returncode == 1 and "no permitted asset `web`" in result.stderr
        assert daemon.client().call("complete", kind="asset", prefix="")["items"] == []
