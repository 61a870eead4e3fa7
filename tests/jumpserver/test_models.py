"""Parsing the sheet's JSON shapes and round-tripping persisted credentials."""

from __future__ import annotations

from typing import Any

import pytest

from jsctl_daemon.jumpserver.credentials import Credentials
from jsctl_daemon.jumpserver.models import AssetDetail, ConnectionToken, TreeNode

ASSET: dict[str, Any] = {
    "id": "a1", "name": "web-01", "address": "10.0.0.1",
    "platform": {"id": 1, "name": "Linux"}, "zone": {"id": "z1", "name": "DMZ"},
    "comment": "", "org_id": "o1", "org_name": "Default", "is_active": True,
    "connectivity": {"value": "ok", "label": "Ok"}, "nodes": [{"id": "n1", "name": "web"}],
    "labels": [], "category": {"value": "host", "label": "Host"},
    "type": {"value": "linux", "label": "Linux"},
    "permed_protocols": [{"name": "ssh", "port": 22, "public": True,
                          "setting": {"sftp_enabled": True, "sftp_home": "/tmp"}}],
    "permed_accounts": [
        {"id": "acc1", "alias": "acc1", "name": "root", "username": "root",
         "has_username": True, "has_secret": True,
         "secret_type": {"value": "password", "label": "Password"},
         "actions": [{"value": "connect", "label": "Connect"},
                     {"value": "upload", "label": "Upload"}]},
        {"id": "random-each-time", "alias": "@INPUT", "name": "Manual input",
         "username": "@INPUT", "has_secret": False, "actions": []},
    ],
}  # fmt: skip


def test_asset_detail_uses_values_and_aliases() -> None:
    detail = AssetDetail.from_json(ASSET)
    assert detail.asset.platform == "Linux"
    assert detail.asset.zone == "DMZ"
    assert detail.asset.category == "host" and detail.asset.type == "linux"
    assert detail.asset.nodes == ("n1",)
    assert detail.protocols[0].setting["sftp_home"] == "/tmp"
    root, manual = detail.accounts
    assert root.alias == "acc1" and root.actions == ("connect", "upload")
    assert manual.alias == "@INPUT" and manual.is_virtual and not root.is_virtual


def test_v3_domain_field() -> None:
    body = dict(ASSET)
    del body["zone"]
    body["domain"] = {"id": "d1", "name": "Old"}
    assert AssetDetail.from_json(body).asset.zone == "Old"


def test_tree_and_token() -> None:
    meta = {"type": "node", "data": {"id": "n1", "key": "1:3"}}
    node = TreeNode.from_json(
        {"id": "1:3", "name": "web (2)", "pId": "1", "isParent": True, "meta": meta}
    )
    assert (node.kind, node.parent, node.data["id"]) == ("node", "1", "n1")
    token = ConnectionToken.from_json({"id": "t1", "asset": {"id": "a1", "name": "web-01"},
                                       "account": "@INPUT", "is_active": False, "expire_time": 299,
                                       "from_ticket": {"id": "tk", "name": "x"}})  # fmt: skip
    assert (token.asset_id, token.is_active, token.ticket) == (
        "a1",
        False,
        {"id": "tk", "name": "x"},
    )


def test_credentials_round_trip_and_hidden_secrets() -> None:
    creds = Credentials(
        url="https://jms.example.com/", username="mei", ca_file="/tmp/ca.pem",
        cookies={"jms_sessionid": "sess", "jms_csrftoken": "csrf"},
        access_key_id="kid", access_key_secret="ksecret",
    )  # fmt: skip
    again = Credentials.from_dict(creds.to_dict())
    assert again == creds
    assert again.server.url == "https://jms.example.com"
    assert again.access_key is not None and again.access_key.secret == "ksecret"
    assert "sess" not in repr(creds) and "ksecret" not in repr(creds)


@pytest.mark.parametrize(
    "broken",
    [{"version": 99}, {"version": 1, "url": "https://x"},
     {"version": 1, "url": "https://x", "username": "u", "cookies": {"a": 1}}],
)  # fmt: skip
def test_credentials_reject_broken_files(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Credentials.from_dict(broken)
