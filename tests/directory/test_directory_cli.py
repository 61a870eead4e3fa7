"""`jsctl assets|asset show|accounts|nodes|connect-methods` against the real sandbox."""

from __future__ import annotations

from directory_support import cli_json, cli_tty
from jsctl_fixtures import LoggedIn


def names(listing: dict) -> list[str]:
    return [a["name"] for a in listing["assets"]]


def test_assets_lists_permitted_assets_with_node_paths(shared_login: LoggedIn) -> None:
    listing = cli_json(shared_login.daemon, "assets")
    assert names(listing) == ["db-01", "staging-api-01", "web-01", "web-02"]
    assert listing["total"] == 4 and listing["stale"] is False
    web = listing["assets"][2]
    assert web["address"] == "10.0.1.11" and web["nodes"] == ["/DEFAULT/web"]
    assert web["platform"] == "Linux"


def test_pattern_is_substring_or_glob_on_name_or_address(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    assert names(cli_json(daemon, "assets", "WEB")) == ["web-01", "web-02"]
    assert names(cli_json(daemon, "assets", "*-01")) == ["db-01", "staging-api-01", "web-01"]
    assert names(cli_json(daemon, "assets", "10.0.2.*")) == ["db-01"]
    assert names(cli_json(daemon, "assets", "0.3.31")) == ["staging-api-01"]
    assert cli_json(daemon, "assets", "--limit", "1", "web")["total"] == 2


def test_node_and_protocol_filters(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    assert names(cli_json(daemon, "assets", "--node", "web")) == ["web-01", "web-02"]
    assert names(cli_json(daemon, "assets", "--node", "/DEFAULT/db")) == ["db-01"]
    assert len(names(cli_json(daemon, "assets", "--node", "/DEFAULT"))) == 4
    assert len(names(cli_json(daemon, "assets", "--protocol", "ssh"))) == 4
    assert names(cli_json(daemon, "assets", "--protocol", "rdp")) == []
    result = daemon.cli("assets", "--node", "nowhere")
    assert result.returncode == 1 and "no node `nowhere`" in result.stderr


def test_organisations_per_call(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    assert names(cli_json(daemon, "assets", "--org", "Staging")) == ["stg-web-01"]
    assert names(cli_json(daemon, "assets", "--org", "staging")) == ["stg-web-01"]
    assert len(names(cli_json(daemon, "assets", "--org", "root"))) == 5
    result = daemon.cli("assets", "--org", "root", "--node", "web")
    assert result.returncode == 1
    assert "/DEFAULT/web" in result.stderr and "/Staging/web" in result.stderr
    result = daemon.cli("assets", "--org", "Nowhere")
    assert result.returncode == 1 and "DEFAULT" in result.stderr and "Staging" in result.stderr


def test_asset_show_resolves_name_address_id_and_prefix(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    shown = cli_json(daemon, "asset", "show", "web-01")["asset"]
    assert {p["name"]: p["port"] for p in shown["protocols"]} == {"ssh": 22, "sftp": 22}
    assert [a["alias"] for a in shown["accounts"]][1:] == ["@INPUT", "@USER"]
    for ref in ("10.0.1.11", shown["id"], shown["id"][:8], "WEB-01"):
        assert cli_json(daemon, "asset", "show", ref)["asset"]["id"] == shown["id"]


def test_ambiguous_and_unknown_references_are_errors_that_help(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    result = daemon.cli("asset", "show", "web")
    assert result.returncode == 1
    assert "matches 2 assets" in result.stderr and "web-01" in result.stderr
    result = daemon.cli("asset", "show", "eb-0")
    assert result.returncode == 1
    assert "no permitted asset `eb-0`" in result.stderr and "web-02" in result.stderr


def test_accounts_lists_real_and_virtual_accounts(shared_login: LoggedIn) -> None:
    listing = cli_json(shared_login.daemon, "accounts", "web-02")
    accounts = {a["alias"]: a for a in listing["accounts"]}
    assert listing["asset"]["name"] == "web-02"
    deploy = next(a for a in listing["accounts"] if a["name"] == "deploy")
    assert deploy["is_virtual"] is False and deploy["has_secret"] is True
    assert accounts["@INPUT"]["is_virtual"] and accounts["@USER"]["is_virtual"]
    assert "connect" in deploy["actions"]


def test_nodes_and_connect_methods(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    paths = [n["path"] for n in cli_json(daemon, "nodes")["nodes"]]
    assert paths[0] == "/DEFAULT" and "/DEFAULT/web" in paths and "favorite" not in paths
    tree = cli_tty(daemon, "nodes", "--tree")
    assert "DEFAULT (4)" in tree and "\n  web (2)" in tree
    methods = cli_json(daemon, "connect-methods")["methods"]
    assert "web_cli" in [m["value"] for m in methods["ssh"]]


def test_terminal_gets_a_table(shared_login: LoggedIn) -> None:
    out = cli_tty(shared_login.daemon, "assets", "web")
    header, first = out.splitlines()[:2]
    assert header.split() == ["NAME", "ADDRESS", "PLATFORM", "NODE", "PROTOCOLS", "COMMENT"]
    assert first.split()[:4] == ["web-01", "10.0.1.11", "Linux", "/DEFAULT/web"]
    assert "2 assets, cached" in out


def test_complete_answers_from_the_cache(shared_login: LoggedIn) -> None:
    client = shared_login.daemon.client()
    cli_json(shared_login.daemon, "accounts", "web-01")  # caches web-01's accounts
    assert client.call("complete", kind="asset", prefix="we")["items"] == ["web-01", "web-02"]
    assert client.call("complete", kind="account", prefix="@", asset="web-01")["items"] == [
        "@INPUT",
        "@USER",
    ]
    assert client.call("complete", kind="node", prefix="/default/w")["items"] == ["/DEFAULT/web"]
    assert client.call("complete", kind="profile", prefix="")["items"] == ["default"]
    assert client.call("complete", kind="asset", prefix="x", org="Nowhere")["items"] == []
