"""Fixtures of the sandbox's file tests (SFTP and elFinder over KoKo's sockets)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from test_files_support import FileUser, SftpClient, file_root, open_sftp

from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture(scope="module")
def admin(sandbox: SandboxInfo) -> Iterator[FileUser]:
    """The sandbox's admin with a logged-in web session, shared by a module's tests."""
    user = FileUser(sandbox, "admin")
    yield user
    user.close()


@pytest.fixture
def workdir(sandbox: SandboxInfo) -> Path:
    """A fresh directory under web-01's file root, private to this test."""
    path = file_root(sandbox) / f"t-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


@pytest.fixture
async def sftp(sandbox: SandboxInfo, admin: FileUser) -> AsyncIterator[SftpClient]:
    """An SFTP socket to web-01 as ``admin``."""
    async with open_sftp(sandbox, admin) as client:
        yield client
