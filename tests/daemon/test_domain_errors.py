"""Domains raise their own errors; errors_map.py is the one place that makes them RPC errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jsctl_daemon
from jsctl_daemon import handlers
from jsctl_daemon.auth import NotLoggedIn
from jsctl_daemon.consent import NotApproved
from jsctl_daemon.directory import Ambiguous, NotInDirectory, OutsideAllowList
from jsctl_daemon.errors import DomainError
from jsctl_daemon.errors_map import ERROR_CODES
from jsctl_daemon.policy import NotAuthenticated
from jsctl_daemon.translate import as_rpc_error
from jsctl_protocol import ErrorCode

PACKAGE = Path(jsctl_daemon.__file__).parent
DOMAINS = ["sessions", "files", "directory", "auth", "consent", "jumpserver"]
DOMAIN_MODULES = ["policy.py", "fleet.py", "session_index.py", "audit.py", "identity.py"]


def _builds_rpc_errors(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "jsctl_protocol":
            names = {alias.name for alias in node.names}
            found += [f"{path.name}:{node.lineno}: {n}" for n in names & {"RpcError"}]
    return found


def test_no_domain_builds_an_rpc_error() -> None:
    paths = [p for d in DOMAINS for p in (PACKAGE / d).rglob("*.py")]
    paths += [PACKAGE / name for name in DOMAIN_MODULES]
    assert len(paths) > 40
    assert [hit for path in paths for hit in _builds_rpc_errors(path)] == []


def _subclasses(cls: type[Exception]) -> set[type[Exception]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_error_has_its_own_row() -> None:
    handlers.load()  # imports every domain
    mapped = {exception_type for exception_type, _ in ERROR_CODES}
    concrete = {cls for cls in _subclasses(DomainError) if not cls.__subclasses__()}
    assert concrete - mapped == set()


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotInDirectory("no asset `x`", {"asset": "x"}), ErrorCode.NOT_FOUND),
        (OutsideAllowList("outside", {"asset": "x"}), ErrorCode.FORBIDDEN),
        (Ambiguous("two of them", {"candidates": ["a", "b"]}), ErrorCode.AMBIGUOUS),
        (NotLoggedIn("run `jsctl login`"), ErrorCode.LOGIN_REQUIRED),
        (NotApproved("denied", {"approval": {"id": "ap-1"}}), ErrorCode.FORBIDDEN),
        (NotAuthenticated("unknown token"), ErrorCode.UNAUTHORIZED),
    ],
)
def test_a_domain_error_becomes_its_code_with_its_words_and_data(
    error: DomainError, code: ErrorCode
) -> None:
    handlers.load()
    rpc = as_rpc_error(error, "some.method")
    assert (rpc.code, rpc.message, rpc.data) == (code, str(error), error.data)
