"""The RPC forms of cached records (plain maps of strings, numbers and lists)."""

from __future__ import annotations

from typing import Any

from ._model import AssetRecord, DetailRecord, NodeRecord, ResolvedAsset
from ._snapshot import Snapshot


def asset_wire(snapshot: Snapshot, asset: AssetRecord) -> dict[str, Any]:
    """One asset as listings return it; ``protocols`` is empty until the server told us."""
    return {
        "id": asset.id,
        "name": asset.name,
        "address": asset.address,
        "platform": asset.platform,
        "nodes": list(snapshot.node_paths(asset)),
        "protocols": list(asset.protocols),
        "comment": asset.comment,
        "org_id": asset.org_id,
        "is_active": asset.is_active,
    }


def detail_wire(snapshot: Snapshot, asset: AssetRecord, detail: DetailRecord) -> dict[str, Any]:
    """One asset with its permitted protocols (and ports) and accounts."""
    return {
        **asset_wire(snapshot, asset),
        "protocols": [{"name": name, "port": port} for name, port in detail.protocols],
        "accounts": [account.to_wire() for account in detail.accounts],
        "detail_fetched_at": detail.fetched_at,
    }


def node_wire(node: NodeRecord) -> dict[str, Any]:
    """One node."""
    return {
        "id": node.id,
        "key": node.key,
        "path": node.path,
        "name": node.name,
        "assets_amount": node.assets_amount,
    }


def node_order(node: NodeRecord) -> tuple[tuple[int, str], ...]:
    """Tree order: keys such as ``1:10`` compare part by part, as numbers."""
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in node.key.split(":"))


def resolved(snapshot: Snapshot, asset: AssetRecord, detail: DetailRecord) -> ResolvedAsset:
    """The answer of ``resolve_asset``."""
    return ResolvedAsset(
        id=asset.id,
        name=asset.name,
        address=asset.address,
        org_id=asset.org_id,
        protocols=tuple(name for name, _ in detail.protocols),
        platform=asset.platform,
        node_paths=snapshot.node_paths(asset),
    )
