"""Directory at scale: cold sync of 50 000 assets, warm search and completion, daemon memory."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from benchlib import median_ms, percentile, report, time_calls
from jsctl_fixtures import login
from jsctl_testing import DaemonProcess

from jsctl_sandbox.testing import running_sandbox

pytestmark = pytest.mark.bench

ASSETS = 50_000


@pytest.fixture(scope="module")
def big_daemon() -> Iterator[DaemonProcess]:
    with (
        running_sandbox("--no-throttle", "--assets", str(ASSETS)) as sandbox,
        DaemonProcess.started() as daemon,
    ):
        login(daemon, sandbox)
        yield daemon


def test_directory_at_50k_assets(big_daemon: DaemonProcess) -> None:
    client = big_daemon.client()
    rss_before = client.call("daemon.status")["rss_bytes"]
    started = time.perf_counter()
    total = client.call("assets.list", limit=1)["total"]
    cold_s = time.perf_counter() - started
    rss_after = client.call("daemon.status")["rss_bytes"]
    assert total == ASSETS + 4

    queries = iter(range(10**6))
    search = time_calls(
        lambda: client.call("assets.list", pattern=f"web-{next(queries) % 9000 * 5 + 1:05d}"), 200
    )
    complete = time_calls(
        lambda: client.call("complete", kind="asset", prefix=f"db-{next(queries) % 400:03d}"), 200
    )
    glob = time_calls(lambda: client.call("assets.list", pattern="*-4999?", limit=50), 50)
    per_asset = (rss_after - rss_before) / total
    report(
        f"directory, {total} assets",
        {
            "cold full sync (s)": cold_s,
            "warm search p50 (ms, whole RPC)": median_ms(search),
            "warm search p95 (ms)": percentile(search, 0.95) * 1000,
            "glob search p50 (ms)": median_ms(glob),
            "completion p50 (ms)": median_ms(complete),
            "daemon RSS before sync (MiB)": rss_before / 2**20,
            "daemon RSS after sync (MiB)": rss_after / 2**20,
            "RSS growth per asset (bytes)": per_asset,
        },
        unit="",
    )
    print("  targets: warm search p50 <= 30 ms; <= 2048 bytes per asset")
    assert median_ms(search) <= 30
    assert per_asset <= 2048
