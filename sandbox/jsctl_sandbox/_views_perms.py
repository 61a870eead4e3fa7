"""Discovery: permitted assets, nodes, trees and connect methods (sheet 5)."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ._api import api_route
from ._model import ROOT_ORG_ID, Asset, Node, User
from ._paging import paginate
from ._serialize import (
    asset_item,
    node_item,
    permed_accounts,
    protocol_settings,
    tree_asset,
    tree_node,
)
from ._web import Ctx, detail_error, not_found, permission_denied

_BASE = "/api/v1/perms/users/{user}/"


def _target_user(ctx: Ctx) -> User:
    assert ctx.user is not None
    who = str(ctx.request.path_params["user"])
    if who in ("self", "my") or who == ctx.user.id:
        return ctx.user
    if not ctx.user.is_superuser:
        raise permission_denied()
    user = ctx.state.directory.users.get(who)
    if user is None:
        raise not_found("User")
    return user


def _terms(ctx: Ctx) -> list[str]:
    text = ctx.query.get("search", "")
    if ctx.state.version.has_q_search and ctx.query.get("q"):
        text = ctx.query["q"]
    return [t.lower() for t in re.split(r"[\s,]+", text) if t]


def _matches(asset: Asset, ctx: Ctx, terms: list[str]) -> bool:
    q = ctx.query
    hay = f"{asset.name}\n{asset.address}\n{asset.comment}".lower()
    if any(t not in hay for t in terms):
        return False
    checks = [
        ("id", asset.id),
        ("name", asset.name),
        ("address", asset.address),
        ("type", asset.platform_type),
        ("category", "host"),
    ]
    if any(k in q and q[k] != v for k, v in checks):
        return False
    if "platform" in q and q["platform"] not in (asset.platform_name, str(asset.platform_id)):
        return False
    if "protocols" in q:
        wanted = set(q["protocols"].split(","))
        if not wanted.intersection(p.name for p in asset.protocols):
            return False
    if "is_active" in q and q["is_active"].lower() in ("0", "false") and asset.is_active:
        return False
    return not ("zone" in q or "domain" in q)  # sandbox assets have no zone


def _node_filter(ctx: Ctx, assets: list[Asset], node_id: str) -> list[Asset]:
    directory = ctx.state.directory
    node = directory.nodes.get(node_id)
    if node is None:
        raise detail_error(404, "PermNode object does not exist.", "object_does_not_exist")
    ids = {directory.nodes_by_key[k].id for k in directory.node_subtree_keys(node)}
    return [a for a in assets if ids.intersection(a.node_ids)]


def _listed_assets(ctx: Ctx, user: User) -> list[Asset]:
    org = ctx.org
    directory = ctx.state.directory
    assets = [a for a in directory.permitted_assets(user) if directory.visible_in_org(a, org)]
    if "node_id" in ctx.query:
        assets = _node_filter(ctx, assets, ctx.query["node_id"])
    terms = _terms(ctx)
    assets = [a for a in assets if _matches(a, ctx, terms)]
    order = ctx.query.get("order", "")
    if order.lstrip("-") in ("name", "address"):
        assets.sort(key=lambda a: getattr(a, order.lstrip("-")), reverse=order.startswith("-"))
    return assets


def _render(ctx: Ctx) -> Any:
    directory, version = ctx.state.directory, ctx.state.version
    return lambda a: asset_item(a, directory, version)


async def assets(ctx: Ctx) -> Response:
    """GET users/self/assets/."""
    return paginate(ctx, _listed_assets(ctx, _target_user(ctx)), _render(ctx))


async def asset_detail(ctx: Ctx) -> Response:
    """GET users/self/assets/<uuid>/: the item plus permed protocols and accounts."""
    user = _target_user(ctx)
    directory = ctx.state.directory
    asset = directory.assets.get(str(ctx.request.path_params["asset_id"]))
    grant = directory.grant(user, asset, ctx.now) if asset is not None else None
    if asset is None or grant is None:
        raise not_found()
    body = asset_item(asset, directory, ctx.state.version)
    body["spec_info"] = {}
    body["permed_protocols"] = protocol_settings(asset)
    body["permed_accounts"] = permed_accounts(grant, ctx.state.version)
    return JSONResponse(body)


def _visible_nodes(ctx: Ctx, user: User) -> list[Node]:
    directory = ctx.state.directory
    counts = directory.permitted_node_counts(user)
    org = ctx.org
    nodes = [
        directory.nodes_by_key[k]
        for k in counts
        if org.id == ROOT_ORG_ID or directory.nodes_by_key[k].org_id == org.id
    ]
    return sorted(nodes, key=lambda n: [int(p) for p in n.key.split(":")])


async def nodes(ctx: Ctx) -> Response:
    """GET users/self/nodes/: a synthetic favorite entry, then the permitted nodes."""
    user = _target_user(ctx)
    counts = ctx.state.directory.permitted_node_counts(user)
    favorite = {
        "id": "favorite",
        "name": "Favorite",
        "key": "favorite",
        "value": "Favorite",
        "full_value": "",
        "org_id": "",
        "assets_amount": 0,
    }
    items = [favorite] + [node_item(n, counts[n.key]) for n in _visible_nodes(ctx, user)]
    return paginate(ctx, items, lambda x: x)


def _children(ctx: Ctx, user: User, key: str | None) -> list[Node]:
    visible = _visible_nodes(ctx, user)
    if key is None:
        return visible
    return [n for n in visible if n.parent_key == key]


async def node_children(ctx: Ctx) -> Response:
    """GET users/self/nodes/children/?key=..."""
    user = _target_user(ctx)
    counts = ctx.state.directory.permitted_node_counts(user)
    found = _children(ctx, user, ctx.query.get("key"))
    return paginate(ctx, found, lambda n: node_item(n, counts[n.key]))


async def node_children_tree(ctx: Ctx) -> Response:
    """GET users/self/nodes/children/tree/ and nodes/tree/: zTree nodes only."""
    user = _target_user(ctx)
    counts = ctx.state.directory.permitted_node_counts(user)
    found = _children(ctx, user, ctx.query.get("key"))
    return JSONResponse([tree_node(n, counts[n.key]) for n in found])


def _assets_directly_in(ctx: Ctx, user: User, node: Node) -> list[dict[str, Any]]:
    directory = ctx.state.directory
    org_name = directory.orgs[node.org_id].name if node.org_id in directory.orgs else ""
    return [
        tree_asset(a, node.key, org_name)
        for a in directory.permitted_assets(user)
        if node.id in a.node_ids
    ]


async def children_with_assets(ctx: Ctx) -> Response:
    """GET nodes/children-with-assets/tree/?key=..: child nodes and the node's own assets."""
    user = _target_user(ctx)
    directory = ctx.state.directory
    counts = directory.permitted_node_counts(user)
    key = ctx.query.get("key")
    out: list[dict[str, Any]] = []
    if key is None:
        roots = [n for n in _visible_nodes(ctx, user) if not n.parent_key]
        for root in roots:
            out.append(tree_node(root, counts[root.key]))
            out += [tree_node(n, counts[n.key]) for n in _children(ctx, user, root.key)]
            out += _assets_directly_in(ctx, user, root)
        return JSONResponse(out)
    out += [tree_node(n, counts[n.key]) for n in _children(ctx, user, key)]
    node = directory.nodes_by_key.get(key)
    if node is not None:
        out += _assets_directly_in(ctx, user, node)
    return JSONResponse(out)


async def all_with_assets(ctx: Ctx) -> Response:
    """GET nodes/all-with-assets/tree/: the whole tree."""
    user = _target_user(ctx)
    counts = ctx.state.directory.permitted_node_counts(user)
    out: list[dict[str, Any]] = []
    for node in _visible_nodes(ctx, user):
        out.append(tree_node(node, counts[node.key]))
        out += _assets_directly_in(ctx, user, node)
    return JSONResponse(out)


async def assets_tree(ctx: Ctx) -> Response:
    """GET users/self/assets/tree/?search=..: matching assets under a pseudo root."""
    user = _target_user(ctx)
    directory = ctx.state.directory
    found = _listed_assets(ctx, user)[:1000]
    return JSONResponse(
        [
            tree_asset(
                a, "root", directory.orgs[a.org_id].name if a.org_id in directory.orgs else ""
            )
            for a in found
        ]
    )


async def node_assets(ctx: Ctx) -> Response:
    """GET nodes/<uuid>/assets/: permitted assets in a node's subtree."""
    user = _target_user(ctx)
    found = _node_filter(
        ctx, ctx.state.directory.permitted_assets(user), str(ctx.request.path_params["node_id"])
    )
    return paginate(ctx, found, _render(ctx))


async def empty_assets(ctx: Ctx) -> Response:
    """GET nodes/ungrouped|favorite/assets/: empty in the sandbox."""
    _target_user(ctx)
    return paginate(ctx, [], _render(ctx))


def _method(component: str, kind: str, proto: str, value: str, label: str) -> dict[str, str]:
    return {
        "component": component,
        "type": kind,
        "endpoint_protocol": proto,
        "value": value,
        "label": label,
    }


_WEB_CLI = _method("koko", "web", "http", "web_cli", "Web CLI")
_NATIVE_SSH = [
    _method("koko", "native", "ssh", "ssh_client", "SSH Client"),
    _method("koko", "native", "ssh", "ssh_guide", "SSH Guide"),
]
_WEB_GUI = _method("chen", "web", "http", "web_gui", "Web GUI")
# As a v4.10.16 community server lists them (capture 44; no applets, no Razor/Lion).
CONNECT_METHODS = {
    "ssh": [_WEB_CLI, *_NATIVE_SSH],
    "telnet": [_WEB_CLI, *_NATIVE_SSH],
    "sftp": [
        _method("koko", "web", "http", "web_sftp", "Web SFTP"),
        _method("koko", "native", "sftp", "sftp_client", "SFTP Client"),
    ],
    "redis": [_WEB_CLI],
    "mongodb": [_WEB_CLI],
    "k8s": [_WEB_CLI],
    "clickhouse": [_WEB_CLI],
    "mysql": [_WEB_CLI, _WEB_GUI],
    "mariadb": [_WEB_CLI, _WEB_GUI],
    "sqlserver": [_WEB_CLI, _WEB_GUI],
    "postgresql": [_WEB_CLI, _WEB_GUI],
    "oracle": [_WEB_CLI, _WEB_GUI],
}


async def connect_methods(ctx: Ctx) -> Response:
    """GET terminal/components/connect-methods/ (?flat=1 for one de-duplicated list)."""
    if ctx.query.get("flat") in ("1", "true"):
        seen: dict[str, dict[str, str]] = {}
        for methods in CONNECT_METHODS.values():
            for m in methods:
                seen.setdefault(m["value"], m)
        return JSONResponse(list(seen.values()))
    return JSONResponse(CONNECT_METHODS)


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    return [
        api_route(_BASE + "assets/", {"GET": assets}),
        api_route(_BASE + "assets/tree/", {"GET": assets_tree}),
        api_route(_BASE + "assets/{asset_id:uuid}/", {"GET": asset_detail}),
        api_route(_BASE + "nodes/", {"GET": nodes}),
        api_route(_BASE + "nodes/children/", {"GET": node_children}),
        api_route(_BASE + "nodes/children/tree/", {"GET": node_children_tree}),
        api_route(_BASE + "nodes/tree/", {"GET": node_children_tree}),
        api_route(_BASE + "nodes/children-with-assets/tree/", {"GET": children_with_assets}),
        api_route(_BASE + "nodes/all-with-assets/tree/", {"GET": all_with_assets}),
        api_route(_BASE + "nodes/ungrouped/assets/", {"GET": empty_assets}),
        api_route(_BASE + "nodes/favorite/assets/", {"GET": empty_assets}),
        api_route(_BASE + "nodes/{node_id:uuid}/assets/", {"GET": node_assets}),
        api_route("/api/v1/terminal/components/connect-methods/", {"GET": connect_methods}),
    ]
