"""`run` on many assets for a model: one call, a grouped summary sized for its context.

Identical outputs are collapsed, failures come first, and every asset keeps a handle the model
can `read` for its full output (``fleet-…/ASSET`` or the run handle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsctl_protocol import ErrorCode, RpcError

from ..fleet_view import Group, group_results, names, split_selector, summary_line
from ._pages import fields
from ._text import clean

FLEET_WAIT_S = 30.0
MIN_GROUP_CHARS = 200
HANDLES_LISTED = 20  # per group: beyond this, the fleet handle and an asset name find them

Call = Callable[..., Any]


class FleetTool:
    """The fleet side of `run` and `read`."""

    def __init__(self, call: Call) -> None:
        self._call = call

    def run(self, arguments: dict[str, Any], chars: int) -> str:
        """Start the command on every selected asset and summarise what came back in time."""
        wait = arguments.get("wait")
        asset = arguments.get("asset")
        reply = self._call(
            "fleet.start",
            command=arguments["command"],
            assets=split_selector(asset) if asset else None,
            node=arguments.get("node"),
            account=arguments.get("account"),
            wait=FLEET_WAIT_S if wait is None else float(wait),
            max_bytes=chars,
        )
        return summarise(reply, chars)

    def read(self, handle: str, arguments: dict[str, Any], chars: int) -> str:
        """The fleet's summary again, after waiting up to `wait` s for it to end."""
        reply = self._call(
            "fleet.get", handle=handle, timeout=arguments.get("wait"), max_bytes=chars
        )
        return summarise(reply, chars)

    def run_handle(self, target: str) -> str:
        """The run handle behind ``fleet-…/ASSET``."""
        handle, _, asset = target.partition("/")
        reply = self._call("fleet.get", handle=handle)
        for result in reply["results"]:
            if asset in (result["asset"], result["address"]) and result.get("handle"):
                return str(result["handle"])
        raise RpcError(
            ErrorCode.NOT_FOUND, f"fleet {handle} has no run on `{asset}`; read {handle} lists them"
        )


def summarise(reply: dict[str, Any], chars: int) -> str:
    """A header, then each group (failures first) with its assets, handles and output."""
    fleet, counts = reply["fleet"], reply["counts"]
    lines = [
        fields(fleet=fleet, state=reply["state"], command=f'"{reply["command"]}"'),
        summary_line(counts),
    ]
    finished = [r for r in reply["results"] if r["outcome"] not in ("running", "pending")]
    groups = group_results(finished)
    budget = max(MIN_GROUP_CHARS, chars // max(1, len(groups)))
    for group in groups:
        lines.extend(_group_text(fleet, group, budget))
    for held in (r for r in reply["results"] if r["state"] == "awaiting_approval"):
        lines.append(f"[{held['asset']}: {held['error']}]")
    waiting = len(reply["results"]) - len(finished)
    if waiting:
        lines.append(f"[{waiting} still running: read id={fleet} wait=30 for the rest]")
    lines.append(f"[full output of one asset: read id={fleet}/ASSET]")
    return "\n".join(lines)


def _group_text(fleet: str, group: Group, budget: int) -> list[str]:
    head = f"== {len(group.assets)} asset{'s' if len(group.assets) != 1 else ''}: {group.label}"
    if group.ok:
        head += f" — {names(group.assets)}"
    else:  # failures carry their handles: the model will want to look at them
        pairs = [
            f"{r['asset']}={r['handle']}" if r.get("handle") else str(r["asset"])
            for r in group.results[:HANDLES_LISTED]
        ]
        more = len(group.results) - HANDLES_LISTED
        head += " — " + ", ".join(pairs) + (f" and {more} more" if more > 0 else "")
    text = clean(group.text.encode()).rstrip("\n")
    truncated = any(r.get("truncated") for r in group.results)
    if len(text) > budget:
        text, truncated = text[:budget], True
    body = [text or "(no output)"]
    if truncated:
        body.append(f"[output cut: read id={fleet}/{group.assets[0]} for all of it]")
    return [head, *body]
