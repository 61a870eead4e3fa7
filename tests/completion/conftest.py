"""Completion tests never reach a daemon by accident: JSCTL_HOME points at an empty directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from jsctl_testing import short_tempdir


@pytest.fixture(autouse=True)
def no_daemon_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    home = short_tempdir("jsc")
    monkeypatch.setenv("JSCTL_HOME", str(home))
    monkeypatch.delenv("JSCTL_SOCKET", raising=False)
    yield
    shutil.rmtree(home, ignore_errors=True)
