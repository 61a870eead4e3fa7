"""File transfer throughput through jsctl against a direct client, and the daemon's memory.

Sizes: ``JSCTL_BENCH_FILE_MB`` (default 200) for throughput, ``JSCTL_BENCH_RSS_MB`` (default
1024) for the memory run. Targets: jsctl >= 0.8x the direct client; daemon peak RSS during
the large transfer <= 64 MB above its idle RSS.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from benchlib import report
from files_direct import download, upload
from jsctl_fixtures import LoggedIn
from jsctl_testing import DaemonProcess

pytestmark = pytest.mark.bench

FILE_MB = int(os.environ.get("JSCTL_BENCH_FILE_MB", "200"))
RSS_MB = int(os.environ.get("JSCTL_BENCH_RSS_MB", "1024"))
ROUNDS = int(os.environ.get("JSCTL_BENCH_ROUNDS", "3"))  # a median of 3: one slow round is noise
ASSET = "web-01"


def _make_file(path: Path, megabytes: int) -> Path:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as sink:
        for index in range(megabytes):
            sink.write(index.to_bytes(8, "big") + block[8:])  # distinct blocks
    return path


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _jsctl(daemon: DaemonProcess, *args: str) -> None:
    result = daemon.cli(*args, timeout=1800)
    assert result.returncode == 0, result.stderr


def test_file_throughput_against_direct_client(logged_in: LoggedIn, tmp_path: Path) -> None:
    daemon, sandbox = logged_in.daemon, logged_in.sandbox
    source = _make_file(tmp_path / "payload.bin", FILE_MB)
    root = sandbox.data_dir / "assets" / ASSET / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    _jsctl(daemon, "ls", f"{ASSET}:")  # the file session is open, as it is in steady use
    samples: dict[str, list[float]] = {
        "direct upload": [],
        "jsctl cp upload": [],
        "direct download": [],
        "jsctl cp download": [],
    }
    for _ in range(ROUNDS):  # interleaved so machine noise hits both alike
        samples["direct upload"].append(
            upload(sandbox, logged_in.username, ASSET, source, "/direct.bin")
        )
        samples["jsctl cp upload"].append(
            _timed(lambda: _jsctl(daemon, "cp", "-f", str(source), f"{ASSET}:/jsctl.bin"))
        )
        samples["direct download"].append(
            download(sandbox, logged_in.username, ASSET, "/direct.bin", tmp_path / "d.bin")
        )
        samples["jsctl cp download"].append(
            _timed(lambda: _jsctl(daemon, "cp", "-f", f"{ASSET}:/jsctl.bin", str(tmp_path / "j")))
        )
    assert (tmp_path / "j").stat().st_size == source.stat().st_size
    rates = {name: FILE_MB / statistics.median(values) for name, values in samples.items()}
    report(
        f"upload of {FILE_MB} MiB, MiB/s (higher is better)",
        {k: v for k, v in rates.items() if "upload" in k},
        "MiB/s",
        baseline="direct upload",
    )
    report(
        f"download of {FILE_MB} MiB, MiB/s (higher is better)",
        {k: v for k, v in rates.items() if "download" in k},
        "MiB/s",
        baseline="direct download",
    )
    print("  target: jsctl >= 0.8x the direct client")


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def _peak_rss(pid: int) -> Iterator[list[float]]:
    peak = [_rss_mb(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_mb(pid))
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


def test_daemon_memory_stays_flat_during_a_large_transfer(
    logged_in: LoggedIn, tmp_path: Path
) -> None:
    daemon = logged_in.daemon
    assert daemon.process is not None
    pid = daemon.process.pid
    source = _make_file(tmp_path / "large.bin", RSS_MB)
    _jsctl(daemon, "ls", f"{ASSET}:")
    idle = _rss_mb(pid)
    with _peak_rss(pid) as up:
        seconds_up = _timed(lambda: _jsctl(daemon, "cp", str(source), f"{ASSET}:/large.bin"))
    with _peak_rss(pid) as down:
        seconds_down = _timed(
            lambda: _jsctl(daemon, "cp", f"{ASSET}:/large.bin", str(tmp_path / "back.bin"))
        )
    assert (tmp_path / "back.bin").stat().st_size == source.stat().st_size
    report(
        f"daemon RSS around a {RSS_MB} MiB transfer (MB; target: peak <= idle + 64)",
        {
            "idle": idle,
            "peak during upload": up[0],
            "peak during download": down[0],
            "upload growth": up[0] - idle,
            "download growth": down[0] - idle,
            "upload MiB/s": RSS_MB / seconds_up,
            "download MiB/s": RSS_MB / seconds_down,
        },
        "",
    )
