"""Fixtures for file tests: a daemon per file API, and a scratch directory on an asset."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest
from files_support import ASSET, Remote, file_root
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess

from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture(scope="module", params=["sftp", "elfinder"])
def files_login(request: pytest.FixtureRequest, sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    """A daemon logged in as `mei` that uses one file API (v4 JSON or elFinder) throughout."""
    with DaemonProcess.started(JSCTL_FILES_API=request.param) as daemon:
        login(daemon, sandbox)
        yield LoggedIn(daemon, sandbox, "mei")


@pytest.fixture
def remote(files_login: LoggedIn) -> Iterator[Remote]:
    """A fresh remote scratch directory (created locally, removed afterwards)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    root = file_root(files_login)
    root.mkdir(parents=True, exist_ok=True)
    (root / name).mkdir()
    yield Remote(ASSET, root / name, "/" + name)
    shutil.rmtree(root / name, ignore_errors=True)
