"""Handlers get the services they name and nothing else; wrappers compose in declared layers."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import jsctl_daemon
from jsctl_daemon import handlers
from jsctl_daemon.rpc import HANDLERS, Call, CallContext, Connection, Layer, Registry
from jsctl_daemon.services import Services

PACKAGE = Path(jsctl_daemon.__file__).parent
# The daemon itself builds the services and serves connections; nothing else may know it.
DAEMON_OWN = {"server.py", "__main__.py", "_connection.py"}


def _reaches(path: Path) -> list[str]:
    """Places in ``path`` that reach through a call context to the daemon, or import it."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and node.attr == "daemon":
            holder = node.value  # `settings.daemon` is a config section, not the daemon
            name = holder.id if isinstance(holder, ast.Name) else getattr(holder, "attr", "")
            if name in ("ctx", "_ctx", "context"):
                found.append(f"{path.name}:{node.lineno}: {name}.daemon")
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "server":
            found.append(f"{path.name}:{node.lineno}: imports the server")
    return found


def test_no_module_reaches_through_a_context_into_the_daemon() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if p.name not in DAEMON_OWN]
    assert len(modules) > 40
    assert [reach for path in modules for reach in _reaches(path)] == []
    assert "daemon" not in {f.name for f in dataclasses.fields(CallContext)}


def test_a_reach_is_noticed(tmp_path: Path) -> None:  # the check above can fail
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from .server import Daemon\n\n"
        "def f(ctx, self):\n    return ctx.daemon.audit, self._ctx.daemon.policy\n"
    )
    assert sorted(_reaches(probe)) == [
        "probe.py:1: imports the server",
        "probe.py:4: _ctx.daemon",
        "probe.py:4: ctx.daemon",
    ]


def test_every_handler_names_its_services() -> None:
    handlers.load()
    services = {f.name for f in dataclasses.fields(Services)}
    assert HANDLERS.needs("ping") == ()
    assert HANDLERS.needs("audit.query") == ("audit",)
    assert set(HANDLERS.needs("client.revoke")) == {"policy", "approvals", "sessions", "audit"}
    # The approval gate, the secret guard and the identity notes around run.start add theirs.
    assert {"policy", "approvals", "identities"} <= set(HANDLERS.needs("run.start"))
    from jsctl_protocol import METHODS

    for name in METHODS:
        assert set(HANDLERS.needs(name)) <= services, name


def test_a_handler_asking_for_what_is_no_service_or_under_another_type_is_refused() -> None:
    registry = Registry()

    async def wants_the_daemon(ctx: CallContext, params: Any, *, daemon: object) -> None:
        return None

    with pytest.raises(TypeError, match="`daemon`, which is not a service"):
        registry.handler("ping")(wants_the_daemon)

    async def wrong_type(ctx: CallContext, params: Any, *, audit: int) -> None:
        return None

    with pytest.raises(TypeError, match="takes `audit` as int; the service is AuditLog"):
        registry.handler("ping")(wrong_type)
    with pytest.raises(KeyError):
        registry.around("no.such.method", layer=Layer.SECRET)


async def test_wrappers_compose_by_layer_whatever_the_registration_order() -> None:
    registry = Registry()
    seen: list[str] = []

    async def handler(ctx: CallContext, params: dict[str, Any]) -> str:
        seen.append("handler")
        return "done"

    def wrapper(name: str) -> Any:
        async def wrap(inner: Call, ctx: CallContext, params: dict[str, Any]) -> Any:
            seen.append(name)
            return await inner(ctx, params)

        return wrap

    registry.handler("ping")(handler)
    registry.around("ping", layer=Layer.IDENTITY)(wrapper("identity"))
    registry.around("ping", layer=Layer.APPROVAL)(wrapper("approval-1"))
    registry.around("ping", layer=Layer.SECRET)(wrapper("secret"))
    registry.around("ping", layer=Layer.APPROVAL)(wrapper("approval-2"))
    services = Services(**{f.name: None for f in dataclasses.fields(Services)})
    call = registry.bind(services)["ping"]

    async def push(_item: Any) -> None:
        return None

    ctx = CallContext("ping", Connection(1, None), 1, push)
    assert await call(ctx, {}) == "done"
    assert seen == ["identity", "secret", "approval-2", "approval-1", "handler"]


def test_audit_and_policy_do_not_load_the_rpc_layer() -> None:
    code = (
        "import sys, jsctl_daemon.audit, jsctl_daemon.policy; "
        "print(sorted(m for m in sys.modules if m in "
        "('jsctl_daemon.rpc', 'jsctl_daemon.server', 'jsctl_daemon._connection')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
