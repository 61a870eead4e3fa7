"""Permitted assets, paging, search, nodes, trees, connect methods (sheet 5)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from jsctl_sandbox.testing import SandboxInfo, running_sandbox, web_login

ASSETS = "/api/v1/perms/users/self/assets/"
NODES = "/api/v1/perms/users/self/nodes/"


@pytest.fixture(scope="module")
def big() -> Iterator[SandboxInfo]:
    """A sandbox with 600 generated assets (over the 200-item unpaged cap)."""
    with running_sandbox("--no-throttle", "--assets", "600") as info:
        yield info


@pytest.fixture(scope="module")
def admin(big: SandboxInfo) -> httpx.Client:
    return web_login(big, "admin")


def test_bare_list_is_capped_and_paged_list_has_absolute_links(
    big: SandboxInfo, admin: httpx.Client
) -> None:
    bare = admin.get(ASSETS).json()
    assert isinstance(bare, list) and len(bare) == 200
    page = admin.get(ASSETS, params={"limit": 250, "offset": 0}).json()
    assert page["count"] == 604 and len(page["results"]) == 250
    assert page["previous"] is None
    assert page["next"].startswith(big.url + ASSETS) and "offset=250" in page["next"]
    seen: list[str] = []
    offset = 0
    while offset < page["count"]:
        chunk = admin.get(ASSETS, params={"limit": 250, "offset": offset}).json()
        seen += [a["id"] for a in chunk["results"]]
        offset += len(chunk["results"])
    assert len(set(seen)) == 604
    assert admin.get(ASSETS, params={"limit": 0}).json().__class__ is list


def test_item_shape(admin: httpx.Client) -> None:
    item = admin.get(ASSETS, params={"search": "web-01"}).json()[0]
    assert item["name"] == "web-01"
    assert item["platform"] == {"id": 1, "name": "Linux"}
    assert "zone" in item and "domain" not in item
    assert item["type"]["value"] == "linux" and item["category"]["value"] == "host"
    assert item["connectivity"] == {"value": "-", "label": "Unknown"}  # never tested yet
    assert item["nodes"][0]["name"] == "web"


def test_search_splits_on_spaces_and_commas(admin: httpx.Client) -> None:
    names = {a["name"] for a in admin.get(ASSETS, params={"search": "web 0"}).json()}
    assert {"web-01", "web-02"} <= names
    both = admin.get(ASSETS, params={"search": "web,10.0.1.12"}).json()
    assert [a["name"] for a in both] == ["web-02"]
    q_wins = admin.get(ASSETS, params={"search": "db-01", "q": "web-01"}).json()
    assert [a["name"] for a in q_wins] == ["web-01"]


def test_node_filter_and_unknown_node(admin: httpx.Client) -> None:
    nodes = admin.get(NODES).json()
    assert nodes[0]["id"] == "favorite" and nodes[0]["key"] == "favorite"
    db = next(n for n in nodes if n["full_value"] == "/DEFAULT/db")
    found = admin.get(ASSETS, params={"node_id": db["id"]}).json()
    assert [a["name"] for a in found] == ["db-01"]
    r = admin.get(ASSETS, params={"node_id": "00000000-0000-0000-0000-00000000beef"})
    assert r.status_code == 404
    assert r.json() == {
        "detail": "PermNode object does not exist.",
        "code": "object_does_not_exist",
    }


def test_org_header_changes_the_list(admin: httpx.Client) -> None:
    default = {a["name"] for a in admin.get(ASSETS, params={"limit": 1000}).json()["results"]}
    assert "stg-web-01" not in default
    everything = admin.get(ASSETS, params={"limit": 1000}, headers={"X-JMS-ORG": "ROOT"}).json()
    assert everything["count"] == 605
    assert admin.get(ASSETS, headers={"X-JMS-ORG": "SYSTEM"}).json() == []


def test_asset_detail_and_virtual_accounts(big: SandboxInfo) -> None:
    mei = web_login(big, "mei")
    item = mei.get(ASSETS, params={"search": "db-01"}).json()[0]
    first = mei.get(f"{ASSETS}{item['id']}/").json()
    second = mei.get(f"{ASSETS}{item['id']}/").json()
    protocols = {p["name"]: p for p in first["permed_protocols"]}
    assert protocols["sftp"]["setting"]["sftp_home"] == "/tmp"
    assert protocols["ssh"]["port"] == 22
    accounts = {a["alias"]: a for a in first["permed_accounts"]}
    assert set(accounts) >= {"@INPUT", "@USER"}
    real = [a for a in first["permed_accounts"] if not a["alias"].startswith("@")]
    assert [a["username"] for a in real] == ["deploy"]  # mei is granted deploy only
    assert all(a["id"] == a["alias"] for a in real)
    again = {a["alias"]: a for a in second["permed_accounts"]}
    assert accounts["@INPUT"]["id"] != again["@INPUT"]["id"]
    assert accounts["@INPUT"]["has_secret"] is False
    assert "date_expired" in accounts["@USER"]
    assert {a["value"] for a in accounts["@USER"]["actions"]} >= {"connect", "upload"}
    missing = mei.get(f"{ASSETS}00000000-0000-0000-0000-000000000001/")
    assert missing.status_code == 404 and missing.json()["code"] == "object_does_not_exist"
    assert mei.get(f"{ASSETS}not-a-uuid/").headers["content-type"].startswith("text/html")


def test_trees(admin: httpx.Client) -> None:
    tree = admin.get(NODES + "children/tree/", params={"key": "1"}).json()
    names = {n["meta"]["data"]["value"] for n in tree}
    assert {"web", "db", "staging", "fleet"} <= names
    web = next(n for n in tree if n["meta"]["data"]["value"] == "web")
    assert web["pId"] == "1" and web["isParent"] is True and web["name"] == "web (2)"
    with_assets = admin.get(NODES + "children-with-assets/tree/", params={"key": web["id"]})
    assets = [n for n in with_assets.json() if n["meta"]["type"] == "asset"]
    assert {a["name"] for a in assets} == {"web-01", "web-02"}
    assert assets[0]["pId"] == web["id"] and assets[0]["meta"]["data"]["sftp"] is True
    children = admin.get(NODES + "children/", params={"key": "1"}).json()
    assert {c["value"] for c in children} == names


def test_connect_methods(admin: httpx.Client) -> None:
    methods = admin.get("/api/v1/terminal/components/connect-methods/").json()
    assert "web_cli" in {m["value"] for m in methods["ssh"]}
    assert "web_sftp" in {m["value"] for m in methods["sftp"]}
    flat = admin.get("/api/v1/terminal/components/connect-methods/", params={"flat": 1}).json()
    assert len({m["value"] for m in flat}) == len(flat)


def test_other_user_uuid_is_forbidden_for_plain_users(big: SandboxInfo) -> None:
    mei = web_login(big, "mei")
    admin_id = web_login(big, "admin").get("/api/v1/users/profile/").json()["id"]
    assert mei.get(f"/api/v1/perms/users/{admin_id}/assets/").status_code == 403
