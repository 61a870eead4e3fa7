"""Helpers for directory tests: JSON from the real CLI, and the domain run in-process."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
from jsctl_testing import JSCTL, DaemonProcess

from jsctl_daemon.auth import AuthDomain
from jsctl_daemon.config import Config, DaemonSettings
from jsctl_daemon.directory import DirectoryDomain


def cli_json(daemon: DaemonProcess, *args: str) -> Any:
    """Run `jsctl ARGS` (stdout is a pipe, so it answers JSON) and parse it."""
    result = daemon.cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cli_tty(daemon: DaemonProcess, *args: str) -> str:
    """Run `jsctl ARGS` with stdout on a terminal (tables) and return what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*JSCTL, *args],
        env={**daemon.env, "COLUMNS": "200"},
        stdout=follower,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    process.wait(timeout=60)
    return b"".join(chunks).decode().replace("\r\n", "\n")


@asynccontextmanager
async def open_domain(
    daemon: DaemonProcess, state_dir: Path, ttl: float = 300.0
) -> AsyncIterator[DirectoryDomain]:
    """The directory domain in this process, using a copy of ``daemon``'s login."""
    shutil.copytree(daemon.paths.state_dir / "profiles", state_dir / "profiles", dirs_exist_ok=True)
    config = Config(daemon=DaemonSettings(directory_ttl=ttl))
    auth = AuthDomain(state_dir, config)
    auth.load()
    directory = DirectoryDomain(state_dir, config, auth)
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(directory.run)
            yield directory
            nursery.cancel_scope.cancel()
    finally:
        await directory.aclose()
        await auth.aclose()
