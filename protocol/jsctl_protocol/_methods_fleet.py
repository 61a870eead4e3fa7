"""The `fleet.*` rows of the method table: one command across many assets."""

from __future__ import annotations

from . import _params as p
from ._table import Method, Param
from ._table import Permission as P

_fleet = Param("handle", "str", "fleet handle (fleet-…)", required=True, max_len=128)

FLEET_METHODS: tuple[Method, ...] = (
    Method(
        "fleet.start",
        "Run one command on many assets (globs, names, a node subtree) in parallel.",
        (
            Param("command", "str", "shell command line", required=True, max_len=64 << 10),
            Param("assets", "list", "asset names, addresses, ids or globs such as web-*"),
            Param("node", "str", "every asset in this node's subtree", max_len=1024),
            p.account,
            p.profile,
            p.org,
            Param(
                "parallel",
                "int",
                "at most this many runs at once (default from config)",
                minimum=1,
                maximum=1024,
            ),
            Param(
                "timeout", "float", "seconds before each asset's command is interrupted", minimum=0
            ),
            Param("dry_run", "bool", "only list the assets it would run on"),
            Param("yes", "bool", "the person confirms a selection over the configured size"),
            Param("stream", "bool", "push progress and each asset's result as it finishes"),
            Param("follow", "bool", "also push each asset's output as it comes"),
            Param(
                "wait", "float", "seconds to wait for the end before answering `running`", minimum=0
            ),
            Param(
                "max_bytes",
                "int",
                "at most this many output bytes per asset in results",
                minimum=0,
                maximum=16 << 20,
            ),
        ),
        "{fleet, state, counts, results: [{asset, account, state, exit_status, handle, ...}]}",
        P.USE,
        streams="stream",
        tools=("run",),
    ),
    Method(
        "fleet.get",
        "A fleet's per-asset runs; waits up to `timeout` for them to end.",
        (_fleet, p.timeout, p.max_bytes),
        "{fleet, state, counts, results}",
        P.READ,
        tools=("read",),
    ),
    Method(
        "fleet.interrupt",
        "Ctrl-C every run of a fleet; assets not started yet are skipped.",
        (_fleet,),
        "{fleet, interrupted: [asset]}",
        P.USE,
        tools=("interrupt",),
    ),
)
