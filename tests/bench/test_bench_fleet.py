"""`jsctl exec` on 100 assets against one single-asset exec, cold and warm, in the same run.

Every figure is a whole `jsctl` process (spawn, RPC, the daemon's work, exit) on the real daemon
and the real sandbox (100 generated assets, each a real bash on a PTY). Targets: 100 warm assets
<= 5x one warm exec, 100 cold <= 10x one cold exec, and the daemon's RSS growth per session
within the idle-session budget (<= 64 KiB beyond its ring).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchlib import report
from jsctl_fixtures import fleet_login
from jsctl_testing import JSCTL, DaemonProcess

from jsctl_clients.rpc import DaemonClient
from jsctl_daemon.sessions import RingBuffer

pytestmark = pytest.mark.bench

ASSETS = int(os.environ.get("JSCTL_BENCH_FLEET_ASSETS", "100"))
WARM_RUNS = int(os.environ.get("JSCTL_BENCH_FLEET_RUNS", "5"))
SINGLES = ("web-01", "web-02", "db-01")  # outside the fleet's node: cold for the single runs
FLEET = ["exec", "--node", "/Default/fleet", "--yes", "--group", "--", "true"]
WARM_TARGET, COLD_TARGET, KIB_PER_SESSION = 5.0, 10.0, 64


@pytest.fixture(scope="module")
def bench_daemon() -> Iterator[DaemonProcess]:
    # Keeping 100 sessions warm takes what a user who does would set: no profile limit (the
    # default 64 would make a warm fleet of 100 reopen 36 sessions every time).
    with fleet_login(ASSETS, "max_sessions_per_profile = 0\n") as logged:
        yield logged.daemon


def _timed(daemon: DaemonProcess, *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run([*JSCTL, *args], env=daemon.env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    return elapsed


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _kill_all(client: DaemonClient) -> None:
    ids = [s["id"] for s in client.call("session.list")["sessions"]]
    if ids:
        client.call("session.kill", sessions=ids)


def _ring_bytes(client: DaemonClient) -> int:
    total = 0
    for session in client.call("session.list")["sessions"]:
        ring = RingBuffer(session["buffer_bytes"])
        ring.append(bytes(session["end_offset"]))
        total += ring.allocated
    return total


def test_bench_fleet_of_100_against_one_exec(bench_daemon: DaemonProcess) -> None:
    daemon = bench_daemon
    assert daemon.process is not None
    pid = daemon.process.pid
    cold_one, cold_many, warm_one, warm_many = [], [], [], []
    with daemon.client() as client:
        _timed(daemon, "exec", SINGLES[-1], "--", "true")  # loads the code paths; not measured
        for round_ in range(2):  # cold: single and fleet side by side, so load hits both alike
            _kill_all(client)
            time.sleep(1.0)
            cold_one.append(_timed(daemon, "exec", SINGLES[round_], "--", "true"))
            if round_ == 0:
                rss_before = _rss(pid)
                sessions_before = len(client.call("session.list")["sessions"])
            cold_many.append(_timed(daemon, *FLEET))
            if round_ == 0:
                time.sleep(1.0)  # the shells' first prompts have landed in the rings
                rss_after = _rss(pid)
                sessions = len(client.call("session.list")["sessions"]) - sessions_before
                rings = _ring_bytes(client)
        rss_warm_before = _rss(pid)
        for _ in range(WARM_RUNS):  # warm: every session exists; interleaved again
            warm_one.append(_timed(daemon, "exec", SINGLES[1], "--", "true"))
            warm_many.append(_timed(daemon, *FLEET))
        rss_warm_after = _rss(pid)
    warm_ratio = statistics.median(warm_many) / statistics.median(warm_one)
    cold_ratio = statistics.median(cold_many) / statistics.median(cold_one)
    report(
        f"jsctl exec on {ASSETS} assets (`true`) against one single-asset exec, whole processes",
        {
            f"one exec, warm (median of {WARM_RUNS})": statistics.median(warm_one) * 1000,
            f"{ASSETS} assets, warm (median of {WARM_RUNS})": statistics.median(warm_many) * 1000,
            "one exec, cold (median of 2)": statistics.median(cold_one) * 1000,
            f"{ASSETS} assets, cold (median of 2)": statistics.median(cold_many) * 1000,
        },
    )
    print(f"  warm: {warm_ratio:.2f}x one warm exec (target <= {WARM_TARGET}x)")
    print(f"  cold: {cold_ratio:.2f}x one cold exec (target <= {COLD_TARGET}x)")
    growth = rss_after - rss_before
    beyond_ring = (growth - rings) / max(1, sessions)
    per_run = (rss_warm_after - rss_warm_before) / (WARM_RUNS * ASSETS)
    report(
        f"daemon memory: the cold fleet's {sessions} new sessions, then {WARM_RUNS} warm fleets",
        {
            "RSS before the cold fleet": rss_before / 2**20,
            "RSS after it": rss_after / 2**20,
            "growth": growth / 2**20,
            "of which ring buffers": rings / 2**20,
            f"growth over {WARM_RUNS} warm fleets": (rss_warm_after - rss_warm_before) / 2**20,
        },
        "MiB",
    )
    print(
        f"  per session beyond its ring: {beyond_ring / 1024:.1f} KiB (idle-session budget"
        f" <= {KIB_PER_SESSION} KiB); per asset run of a warm fleet: {per_run:.0f} B"
    )
    assert sessions == ASSETS
    # Figures, not pass/fail on speed or memory (the targets are printed above with them).
