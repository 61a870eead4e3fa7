"""Shared fixtures: a running sandbox (session-scoped) and a factory for pristine ones."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo, running_sandbox

pytest_plugins = ["jsctl_fixtures"]

# Started as a background job (`bash .ci/run &`, nohup, a CI runner), pytest inherits SIGINT and
# SIGQUIT ignored, and an ignored signal stays ignored in every process it starts: the CLIs the
# tests press Ctrl-C at would never see it. Tests stand for a person at a terminal, whose
# foreground job gets the default dispositions (a Python handler is reset to them at exec).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


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
