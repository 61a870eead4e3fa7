"""Fetching the directory from JumpServer: full listings page by page, details, searches."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping

from ..jumpserver import JumpServerAPI
from ..jumpserver.api import PERMS
from ..jumpserver.errors import BadResponse, JumpServerError, ServerError
from ..jumpserver.models import Account, Asset, AssetDetail, Node
from ._model import AccountRecord, AssetRecord, DetailRecord, Interner, NodeRecord
from ._snapshot import Snapshot

PAGE_SIZE = 1000  # the server's maximum `limit` since v4.10.8
_ASSETS = f"{PERMS}/assets/"


class PageFailed(JumpServerError):
    """One page of a listing was unusable; whatever was cached before stays as it was."""

    def __init__(self, what: str, page: int, offset: int, cause: JumpServerError) -> None:
        super().__init__(
            f"page {page} (items from offset {offset}) of {what} failed: {cause}; "
            "the cached copy was kept — try again with --refresh later"
        )
        self.page, self.offset, self.cause = page, offset, cause


def asset_record(asset: Asset, intern: Interner, protocols: tuple[str, ...] = ()) -> AssetRecord:
    """The compact form of a listed asset."""
    return AssetRecord(
        asset.id,
        asset.name,
        asset.address,
        intern(asset.platform),
        asset.comment,  # mostly unique or empty: not worth sharing
        intern(asset.org_id),
        intern(tuple(intern(n) for n in asset.nodes)),
        protocols,
        asset.is_active,
    )


def node_record(node: Node) -> NodeRecord:
    """The compact form of a node; the path falls back to the name for odd servers."""
    return NodeRecord(
        node.id, node.key, node.full_value or f"/{node.value}", node.value, node.assets_amount
    )


def account_record(account: Account, intern: Interner) -> AccountRecord:
    """The compact form of a permitted account (names and actions repeat across assets)."""
    return AccountRecord(
        account.alias,
        intern(account.name),
        intern(account.username),
        account.has_secret,
        intern(tuple(intern(action) for action in account.actions)),
    )


def detail_record(detail: AssetDetail, intern: Interner) -> DetailRecord:
    """Protocols and accounts of an asset-detail answer, stamped now (the decoded answer's
    repeated strings shared: a fleet keeps one detail per asset it ran on)."""
    return DetailRecord(
        intern(tuple(intern((intern(p.name), p.port)) for p in detail.protocols)),
        tuple(account_record(a, intern) for a in detail.accounts),
        time.time(),
    )


async def _pages(
    api: JumpServerAPI, params: dict[str, str | int], org: str | None, what: str
) -> AsyncIterator[list[object]]:
    """Raw pages of the permitted-asset list; a failing page is named in the error."""
    page, offset = 1, 0
    pages = api.conn.iter_pages(_ASSETS, params, page_size=PAGE_SIZE, org=org)
    while True:
        try:
            items = await anext(pages)
        except StopAsyncIteration:
            return
        except (BadResponse, ServerError) as exc:
            raise PageFailed(what, page, offset, exc) from exc
        yield items
        page, offset = page + 1, offset + len(items)


async def fetch_assets(
    api: JumpServerAPI, org: str | None, intern: Interner, search: str | None = None
) -> list[AssetRecord]:
    """Every permitted asset, or the first page of those matching a server-side ``search``."""
    params: dict[str, str | int] = {"search": search} if search else {}
    what = "the permitted-asset list" + (f" searching {search!r}" if search else "")
    records: list[AssetRecord] = []
    async for items in _pages(api, params, org, what):
        records.extend(
            asset_record(Asset.from_json(item), intern) for item in items if isinstance(item, dict)
        )
        if search:  # a look-up for one reference: the best matches suffice
            break
    return records


async def fetch_protocol_members(api: JumpServerAPI, org: str | None, protocol: str) -> set[str]:
    """Ids of the permitted assets that offer ``protocol`` (the list items do not say)."""
    members: set[str] = set()
    what = f"the permitted-asset list for protocol {protocol!r}"
    async for items in _pages(api, {"protocols": protocol}, org, what):
        members.update(str(i.get("id")) for i in items if isinstance(i, dict))
    return members


async def fetch_snapshot(
    api: JumpServerAPI,
    org: str | None,
    intern: Interner,
    previous: Snapshot | None,
    details: Mapping[str, DetailRecord],
) -> Snapshot:
    """A complete new snapshot; known protocols are fetched again, details applied."""
    assets = await fetch_assets(api, org, intern)
    nodes = [node_record(n) for n in await api.nodes(org=org)]
    known = previous.protocols_known if previous else set()
    snapshot = Snapshot(assets, nodes, synced_at=time.time())
    for asset in assets:
        detail = details.get(asset.id)
        if detail is not None:
            snapshot.learn_detail(asset.id, detail, intern)
    for protocol in sorted(known):
        snapshot.learn_protocol(protocol, await fetch_protocol_members(api, org, protocol), intern)
    return snapshot


async def fetch_detail(
    api: JumpServerAPI, asset_id: str, intern: Interner
) -> tuple[AssetRecord, DetailRecord]:
    """One asset as the detail call shows it now (NotFound once deleted or unpermitted)."""
    detail = await api.asset(asset_id)
    record = detail_record(detail, intern)
    protocols = intern(tuple(sorted(intern(name) for name, _ in record.protocols)))
    return asset_record(detail.asset, intern, protocols), record
