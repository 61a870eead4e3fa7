"""Fixtures: a real daemon process on a real socket in a private JSCTL_HOME."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jsctl_testing import DaemonProcess


@pytest.fixture
def daemon() -> Iterator[DaemonProcess]:
    with DaemonProcess.started() as process:
        yield process
