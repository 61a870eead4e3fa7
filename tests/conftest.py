"""Shared fixtures: a running sandbox (session-scoped) and a factory for pristine ones."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, running_sandbox

pytest_plugins = ["jsctl_fixtures"]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxInfo]:
    """One sandbox for the whole test session (throttling off; reset faults between tests)."""
    with running_sandbox("--no-throttle") as info:
        yield info


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxFactory]:
    """A factory for a pristine sandbox: `with fresh_sandbox("--assets", "10") as sb: ...`."""
    with contextlib.ExitStack() as stack:

        def start(*args: str) -> AbstractContextManager[SandboxInfo]:
            return contextlib.nullcontext(stack.enter_context(running_sandbox(*args)))

        yield start
