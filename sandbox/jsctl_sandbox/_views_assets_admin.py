"""The console's read-only asset views an administrator's tools call: platforms and nodes.

Writes (creating users, nodes, hosts, permissions) stay out: the sandbox's directory comes
from --config (see sandbox/README.md, "Conformance with a real server").
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from ._api import api_route
from ._model import ROOT_ORG_ID
from ._serialize import choice
from ._web import Ctx, permission_denied

_LINUX_PROTOCOLS = (
    # (id, name, port, primary, required, default, secret types), in v4.10.16's order
    (2, "telnet", 23, False, False, False, ["password"]),
    (3, "vnc", 5900, False, False, False, ["password"]),
    (4, "rdp", 3389, False, False, False, ["password"]),
    (1, "ssh", 22, True, True, True, ["password", "ssh_key"]),
    (5, "sftp", 22, False, False, True, ["password", "ssh_key"]),
)


def _linux() -> dict[str, Any]:
    return {
        "id": 1,
        "name": "Linux",
        "category": choice("host", "Host"),
        "type": choice("linux", "Linux"),
        "charset": choice("utf-8", "UTF-8"),
        "protocols": [
            {
                "id": pid,
                "name": name,
                "port": port,
                "port_from_addr": False,
                "primary": primary,
                "required": required,
                "default": default,
                "public": True,
                "secret_types": secret_types,
                "setting": {},
            }
            for pid, name, port, primary, required, default, secret_types in _LINUX_PROTOCOLS
        ],
        "internal": True,
        "comment": "",
    }


def _admin(ctx: Ctx) -> None:
    if ctx.user is None or not ctx.user.is_superuser:
        raise permission_denied()


async def platforms(ctx: Ctx) -> Response:
    """GET assets/platforms/ (``?name=`` filters): the sandbox has the one Linux platform."""
    _admin(ctx)
    found = [_linux()]
    name = ctx.query.get("name")
    if name is not None:
        found = [p for p in found if p["name"] == name]
    return JSONResponse(found)


async def nodes(ctx: Ctx) -> Response:
    """GET assets/nodes/: every node of the current org (all orgs in ROOT), admins only."""
    _admin(ctx)
    directory = ctx.state.directory
    org = ctx.org
    out = []
    for node in sorted(directory.nodes.values(), key=lambda n: [int(k) for k in n.key.split(":")]):
        if org.id != ROOT_ORG_ID and node.org_id != org.id:
            continue
        owner = directory.orgs.get(node.org_id)
        out.append(
            {
                "id": node.id,
                "key": node.key,
                "value": node.value,
                "org_id": node.org_id,
                "name": node.value,
                "full_value": node.full_value,
                "org_name": owner.name if owner else "",
            }
        )
    return JSONResponse(out)


def routes() -> list[BaseRoute]:
    """Routes of this module."""
    return [
        api_route("/api/v1/assets/platforms/", {"GET": platforms}),
        api_route("/api/v1/assets/nodes/", {"GET": nodes}),
    ]
