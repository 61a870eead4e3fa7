"""The cache: paging, garbage pages, surviving a restart (0600), background refresh, logout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from directory_support import cli_json
from jsctl_fixtures import LoggedIn, login
from jsctl_testing import DaemonProcess, short_tempdir

from jsctl_sandbox.testing import SandboxInfo, running_sandbox

ASSETS = "/api/v1/perms/users/self/assets/"
GENERATED = 2500  # three pages of 1000, plus the 4 default assets


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[SandboxInfo]:
    with running_sandbox("--no-throttle", "--assets", str(GENERATED)) as info:
        yield info


@pytest.fixture
def big_login(big_sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    big_sandbox.control().reset()
    with DaemonProcess.started() as daemon:
        login(daemon, big_sandbox)
        yield LoggedIn(daemon, big_sandbox, "mei")
    big_sandbox.control().reset()


def fail_page(sandbox: SandboxInfo, page: int, kind: str) -> None:
    """Make the `page`-th listing request from now on misbehave (earlier ones pass)."""
    control = sandbox.control()
    if page > 1:
        control.add_fault(ASSETS, "slow", delay=0.0, times=page - 1)
    control.add_fault(ASSETS, kind, status=502, times=1)


def cache_file(daemon: DaemonProcess) -> Path:
    return daemon.paths.state_dir / "directory" / "default.json"


def test_pages_through_everything(big_login: LoggedIn) -> None:
    listing = cli_json(big_login.daemon, "assets", "--limit", "3")
    assert listing["total"] == GENERATED + 4 and len(listing["assets"]) == 3
    assert cli_json(big_login.daemon, "assets", "web-02496")["total"] == 1
    assert cli_json(big_login.daemon, "assets", "--node", "rack-010")["total"] == 250


@pytest.mark.parametrize(("kind", "page"), [("garbage", 2), ("status", 3)])
def test_a_bad_page_is_named_and_the_last_good_copy_kept(
    big_login: LoggedIn, kind: str, page: int
) -> None:
    daemon = big_login.daemon
    first = cli_json(daemon, "assets", "--limit", "1")
    fail_page(big_login.sandbox, page, kind)
    result = daemon.cli("assets", "--refresh")
    assert result.returncode == 1
    assert f"page {page} (items from offset {(page - 1) * 1000})" in result.stderr
    kept = cli_json(daemon, "assets", "--limit", "1")
    assert kept["total"] == GENERATED + 4 and kept["cached_at"] == first["cached_at"]
    assert f"page {page}" in kept["warning"]
    assert cli_json(daemon, "assets", "--refresh", "--limit", "1")["warning"] is None


def test_cold_failure_has_nothing_to_keep(big_login: LoggedIn) -> None:
    fail_page(big_login.sandbox, 1, "garbage")
    result = big_login.daemon.cli("assets")
    assert result.returncode == 1 and "page 1 (items from offset 0)" in result.stderr


def test_cache_survives_a_restart_privately(big_login: LoggedIn) -> None:
    daemon = big_login.daemon
    cli_json(daemon, "accounts", "web-01")
    assert cache_file(daemon).stat().st_mode & 0o777 == 0o600
    daemon.stop()
    big_login.sandbox.control().add_fault(ASSETS, "status", status=503)  # server is down
    daemon.start()
    client = daemon.client()
    assert client.call("complete", kind="asset", prefix="web-024")["items"] == [
        f"web-{n:05d}" for n in range(2401, 2500, 5)
    ]
    assert client.call("complete", kind="account", asset="web-01")["items"] == [
        "deploy",
        "@INPUT",
        "@USER",
    ]
    generated_db = [n for n in range(1, GENERATED + 1) if n % 5 == 2]  # db-00002, db-00007…
    assert cli_json(daemon, "assets", "db-0")["total"] == len(generated_db) + 1  # and db-01


def test_logout_drops_the_cache(big_login: LoggedIn) -> None:
    daemon = big_login.daemon
    cli_json(daemon, "assets", "--limit", "1")
    assert cache_file(daemon).exists()
    assert daemon.cli("logout").returncode == 0
    assert not cache_file(daemon).exists()
    assert daemon.client().call("complete", kind="asset", prefix="w")["items"] == []


def test_background_refresh_after_the_ttl(big_sandbox: SandboxInfo) -> None:
    config = short_tempdir("jscfg")
    (config / "config.toml").write_text("[daemon]\ndirectory_ttl = 1\n")
    with DaemonProcess.started(JSCTL_CONFIG_DIR=str(config)) as daemon:
        login(daemon, big_sandbox)
        first = cli_json(daemon, "assets", "--limit", "1")["cached_at"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listing = cli_json(daemon, "assets", "--limit", "1")
            if listing["cached_at"] > first:
                break
            time.sleep(0.2)
        assert listing["cached_at"] > first, "the cache was never refreshed"
        assert "directory synced" in daemon.log_text()
