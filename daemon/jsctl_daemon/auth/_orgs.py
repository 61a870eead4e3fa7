"""`jsctl login --org NAME`: the organisation is checked at login against the user's own."""

from __future__ import annotations

from ..jumpserver import Connection, JumpServerAPI
from ..jumpserver.errors import NotFound
from ..jumpserver.models import Org
from ._errors import BadLoginRequest

# X-JMS-ORG words JumpServer resolves itself (sheet 4.4).
_WORDS = {"default": "is_default", "root": "is_root", "system": "is_system"}


async def check_org(conn: Connection, username: str) -> Org | None:
    """The org ``conn.config.org`` names among the user's workbench orgs (None: none chosen).

    Matches an id, a name (any case) or default/root/system; anything else is a BadLoginRequest
    listing the organisations the user has.
    """
    wanted = (conn.config.org or "").strip()
    if not wanted:
        return None
    try:
        orgs = await JumpServerAPI(conn).orgs()
    except NotFound:  # a server without profile/permissions/ (v3): nothing to check against
        return None
    low = wanted.lower()
    for org in orgs:
        if low in (org.id.lower(), org.name.lower()):
            return org
        flag = _WORDS.get(low)
        if flag is not None and getattr(org, flag):
            return org
    if low == "system":
        return Org("00000000-0000-0000-0000-000000000004", "SYSTEM", is_system=True)
    names = ", ".join(f"`{o.name}`" for o in orgs) or "none"
    raise BadLoginRequest(
        f"`{username}` has no organisation `{wanted}` on this JumpServer; yours: {names} — "
        "run `jsctl login --org NAME` with one of them (or leave --org out)",
        {"org": wanted, "orgs": [o.name for o in orgs]},
    )
