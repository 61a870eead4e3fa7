"""Failures stay clean: interrupted transfers, permission refusals, the v3 fallback."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from files_support import file_root
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess

from jsctl_clients.rpc import DaemonClient
from jsctl_sandbox.testing import SandboxFactory, SandboxInfo

BIG = 160 * 1024 * 1024  # long enough at loopback speed to interrupt midway

LIMITED_CONFIG = """
[[users]]
username = "mei"
name = "Mei Chen"
mfa = "totp"

[[assets]]
name = "ro-01"
address = "10.0.9.9"
nodes = ["/Default/ro"]
accounts = [{name = "deploy"}]

[[permissions]]
name = "look-only"
users = ["mei"]
nodes = ["/Default"]
accounts = ["deploy"]
actions = ["connect"]
"""


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _big_file(path: Path) -> Path:
    with path.open("wb") as sink:
        block = os.urandom(1024 * 1024)
        for _ in range(BIG // len(block)):
            sink.write(block)
    return path


def _transfer_until(daemon: DaemonProcess, method: str, **params: Any) -> DaemonClient:
    """Start a transfer over a real RPC connection and return once bytes are moving."""
    client = daemon.client()
    stream = client.stream(method, asset="web-01", **params)
    for item in stream:
        if item.get("bytes", 0) >= 8 * 1024 * 1024:
            return client
    raise AssertionError(f"{method} finished before it could be interrupted")


@pytest.fixture
def scratch(logged_in: LoggedIn, tmp_path: Path) -> Path:
    """An empty directory under web-01's file root (as seen locally)."""
    directory = file_root(logged_in) / f"safety-{tmp_path.name}"
    directory.mkdir(parents=True)
    return directory


def _kill(daemon: DaemonProcess) -> None:
    assert daemon.process is not None
    daemon.process.kill()
    daemon.process.wait()


def test_killed_daemon_leaves_nothing_under_the_final_names(
    logged_in: LoggedIn, scratch: Path, tmp_path: Path
) -> None:
    daemon = logged_in.daemon
    source = _big_file(tmp_path / "big.bin")
    client = _transfer_until(
        daemon, "files.upload", sources=[str(source)], dest=f"/{scratch.name}/big.bin"
    )
    _kill(daemon)
    client.close()
    assert not (scratch / "big.bin").exists()

    (scratch / "big.bin").write_bytes(source.read_bytes())
    daemon.start()  # the new daemon reuses the saved login
    target = tmp_path / "down"
    target.mkdir()
    client = _transfer_until(
        daemon, "files.download", sources=[f"/{scratch.name}/big.bin"], dest=str(target)
    )
    _kill(daemon)
    client.close()
    assert not (target / "big.bin").exists()  # only the hidden .part file may remain


def test_interrupted_client_cleans_up_temporary_files(
    logged_in: LoggedIn, scratch: Path, tmp_path: Path
) -> None:
    daemon = logged_in.daemon
    source = _big_file(tmp_path / "big.bin")
    client = _transfer_until(
        daemon, "files.upload", sources=[str(source)], dest=f"/{scratch.name}/"
    )
    client.close()  # what a Ctrl-C'd CLI does
    _wait_for(lambda: not _busy(daemon), "the daemon to abandon the upload")
    assert list(scratch.iterdir()) == []

    (scratch / "big.bin").write_bytes(source.read_bytes())
    target = tmp_path / "down"
    target.mkdir()
    client = _transfer_until(
        daemon, "files.download", sources=[f"/{scratch.name}/big.bin"], dest=str(target)
    )
    client.close()
    _wait_for(lambda: not list(target.iterdir()), "the daemon to remove the local .part file")
    # The abandoned download spent that session; the next call opens a fresh one.
    result = daemon.cli("--json", "ls", f"web-01:/{scratch.name}")
    assert result.returncode == 0, result.stderr
    assert [e["name"] for e in json.loads(result.stdout)["entries"]] == ["big.bin"]


def _busy(daemon: DaemonProcess) -> bool:
    with daemon.client() as client:
        return any(s["busy"] for s in client.call("files.sessions")["sessions"])


def test_account_without_upload_or_download_permission(
    fresh_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    config = tmp_path / "sandbox.toml"
    config.write_text(LIMITED_CONFIG)
    with fresh_sandbox("--no-throttle", "--config", str(config)) as sandbox:
        root = sandbox.data_dir / "assets" / "ro-01" / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        (root / "secret.txt").write_text("no\n")
        with DaemonProcess.started() as daemon:
            login(daemon, sandbox)
            listed = daemon.cli("ls", "ro-01:")
            assert listed.returncode == 0 and "secret.txt" in listed.stdout, listed.stderr
            down = daemon.cli("cp", "ro-01:/secret.txt", str(tmp_path / "secret.txt"))
            assert down.returncode == 1 and "permission" in down.stderr.lower()
            assert not (tmp_path / "secret.txt").exists()
            assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
            source = tmp_path / "up.txt"
            source.write_text("up\n")
            up = daemon.cli("cp", str(source), "ro-01:/up.txt")
            assert up.returncode == 1 and "permission" in up.stderr.lower()
            assert sorted(p.name for p in root.iterdir()) == ["secret.txt"]
            with daemon.client() as client:
                records = client.call("audit.query", asset="ro-01")["records"]
            failed = [r for r in records if r["action"] in ("files.upload", "files.download")]
            assert [r["outcome"] for r in failed] == ["error", "error"]


def test_v3_server_falls_back_to_elfinder(fresh_sandbox: SandboxFactory, tmp_path: Path) -> None:
    with fresh_sandbox("--no-throttle", "--server-version", "3.10.23") as sandbox:
        assert isinstance(sandbox, SandboxInfo)
        with DaemonProcess.started() as daemon:
            login(daemon, sandbox)
            source = tmp_path / "v3.txt"
            source.write_text("old server\n")
            up = daemon.cli("--json", "cp", str(source), "web-01:/v3.txt")
            assert up.returncode == 0, up.stderr
            listed = daemon.cli("--json", "ls", "web-01:")
            assert listed.returncode == 0, listed.stderr
            answer = json.loads(listed.stdout)
            assert answer["api"] == "elfinder"
            assert "v3.txt" in [e["name"] for e in answer["entries"]]
