"""jsctl against KoKo's file-manager behaviours read from its source (sheet 8.2, 2026-12-06):
requests in flight together get mixed up (v4.9.0+), a failed asset login looks like an empty
listing, a read error midway, and an expired cookie on the elFinder connector."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from files_support import ASSET, file_root
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess

from jsctl_sandbox.testing import SandboxInfo


@pytest.fixture
def scratch(shared_login: LoggedIn, sandbox: SandboxInfo) -> Iterator[tuple[Path, str]]:
    name = f"q-{uuid.uuid4().hex[:8]}"
    local = file_root(shared_login) / name
    local.mkdir(parents=True)
    yield local, f"{ASSET}:/{name}"
    sandbox.control().reset()


def _ok(login: LoggedIn, *args: str) -> str:
    result = login.daemon.cli(*args, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_ls_during_cp_never_has_two_requests_in_flight(
    shared_login: LoggedIn, sandbox: SandboxInfo, scratch: tuple[Path, str], tmp_path: Path
) -> None:
    # The sandbox widens KoKo's window (each request reads the shared field 20 ms late), so
    # any two requests in flight together on one socket are certainly mixed up and counted.
    local, remote = scratch
    sandbox.control().koko(sftp_dispatch_delay_s=0.02)
    (local / "seen.txt").write_text("here")
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(24 * 1024 * 1024))  # 12 chunks: ~0.3 s of requests
    before = sandbox.control().counters().get("sftp_mixed_up", 0)
    _ok(shared_login, "ls", remote)  # the file session is open, as in steady use
    copying = threading.Thread(
        target=lambda: _ok(shared_login, "cp", str(payload), f"{remote}/payload.bin")
    )
    copying.start()
    listings = 0
    while copying.is_alive() or listings < 3:
        assert "seen.txt" in _ok(shared_login, "ls", remote)
        listings += 1
    copying.join()
    assert (local / "payload.bin").read_bytes() == payload.read_bytes()
    assert sandbox.control().counters().get("sftp_mixed_up", 0) == before


def test_read_error_midway_fails_cleanly(
    shared_login: LoggedIn, sandbox: SandboxInfo, scratch: tuple[Path, str], tmp_path: Path
) -> None:
    local, remote = scratch
    (local / "big.bin").write_bytes(os.urandom(5 * 1024 * 1024))
    sandbox.control().koko(download_read_error_after=2 * 1024 * 1024)
    result = shared_login.daemon.cli("cp", f"{remote}/big.bin", str(tmp_path / "big.bin"))
    assert result.returncode != 0
    assert "failed to read" in result.stderr and "nothing was saved" in result.stderr
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary file


def test_failed_asset_login_is_reported_as_such(
    shared_login: LoggedIn, sandbox: SandboxInfo, scratch: tuple[Path, str]
) -> None:
    _local, remote = scratch
    sandbox.control().koko(asset_login_error="ssh: unable to authenticate")
    # A session opened before the fault is still fine; close it so a new login is tried.
    client = shared_login.daemon.client()
    try:
        for session in client.call("files.sessions")["sessions"]:
            client.call("files.close", session=session["id"])
    finally:
        client.close()
    result = shared_login.daemon.cli("ls", remote)
    assert result.returncode != 0
    assert "could not log in to the asset" in result.stderr, result.stderr
    assert "expired" not in result.stderr


def test_elfinder_connector_redirect_means_log_in_again(
    sandbox: SandboxInfo, scratch: tuple[Path, str]
) -> None:
    # Last in this module: it expires every web session of the shared sandbox.
    _local, remote = scratch
    with DaemonProcess.started(JSCTL_FILES_API="elfinder") as daemon:
        login(daemon, sandbox)
        assert daemon.cli("ls", remote).returncode == 0  # the elFinder session is open
        sandbox.control().expire_sessions()
        result = daemon.cli("ls", remote)
        assert result.returncode != 0
        assert "jsctl login" in result.stderr and "HTTP 302" not in result.stderr, result.stderr


@pytest.mark.parametrize("version", ["4.8.1", "4.7.0"])
def test_older_kokos_upload_reply_and_elfinder_fallback(
    fresh_sandbox: Any, tmp_path: Path, version: str
) -> None:
    # 4.8.x answers a whole-file upload with its path, not "ok"; 4.7 has no /koko/ws/sftp/.
    with (
        fresh_sandbox("--no-throttle", "--server-version", version) as sb,
        DaemonProcess.started() as daemon,
    ):
        login(daemon, sb)
        (tmp_path / "small.txt").write_text("hello")
        result = daemon.cli("cp", str(tmp_path / "small.txt"), f"{ASSET}:/small.txt")
        assert result.returncode == 0, result.stderr
        assert (sb.data_dir / "assets" / ASSET / "tmp" / "small.txt").read_text() == "hello"
        with daemon.client() as client:
            [session] = client.call("files.sessions")["sessions"]
        assert session["api"] == ("sftp" if version == "4.8.1" else "elfinder")
