"""How held calls look to the model: what waits, for whom, and how to follow it."""

from __future__ import annotations

import json
import re
from typing import Any

from ._pages import fields

AWAITING = "awaiting_approval"
APPROVAL_ID = re.compile(r"^ap-\d+$")


def awaiting_text(approval: dict[str, Any]) -> str:
    """The result for a call a rule holds until the person decides."""
    minutes = max(0.0, float(approval["expires_at"]) - float(approval["created_at"])) / 60
    header = fields(
        state=AWAITING,
        id=approval["id"],
        kind=approval.get("kind"),
        asset=approval.get("asset"),
        account=approval.get("account"),
        session=approval.get("session"),
    )
    return (
        f"{header}\ncommand: {approval.get('command')}\n"
        f"[held by rule `{approval.get('rule')}`: a person must approve this before it happens."
        f" They approve with `jsctl approve {approval['id']}` and a code from their"
        " authenticator; you cannot approve it. read id="
        f"{approval['id']} (wait=SECONDS to wait) shows the decision and then the output."
        f" Undecided after {minutes:g} min it counts as denied]"
    )


def decided_text(approval: dict[str, Any]) -> tuple[str, bool]:
    """A decided request that has no run to read: what became of it (text, is it a failure)."""
    state = approval["state"]
    header = fields(
        state=state,
        id=approval["id"],
        kind=approval.get("kind"),
        asset=approval.get("asset"),
        decided_by=approval.get("decided_by"),
        channel=approval.get("channel"),
        reason=f'"{approval["reason"]}"' if approval.get("reason") else None,
    )
    if state == "approved":
        if approval.get("error"):
            return f"{header}\n[approved, but it failed: {approval['error']}]", True
        return f"{header}\n[approved and done: {approval.get('command')}]", False
    if state == "pending":
        return awaiting_text(approval), False
    return f"{header}\n[not approved: do not retry it unchanged; ask the person]", True


def secret_field(reply: dict[str, Any]) -> str | None:
    """The header's prompt="…" when the session waits for a secret."""
    prompt = reply.get("waiting_secret")
    return json.dumps(prompt, ensure_ascii=False) if prompt else None


def secret_note(reply: dict[str, Any], session: str) -> str:
    """A line saying that only the person answers the password prompt (or nothing)."""
    if not reply.get("waiting_secret"):
        return ""
    return (
        f"[the remote asks for a secret: the person must answer it with `jsctl secret {session}`;"
        " you cannot type it (input is refused there). read this id later for the result, or"
        " interrupt to abort]\n"
    )


def identity_field(reply: dict[str, Any]) -> str | None:
    """The header's identity="deploy@web-01 → root (sudo)" once the remote user changed."""
    text = reply.get("identity")
    return json.dumps(text, ensure_ascii=False) if text and "→" in text else None
