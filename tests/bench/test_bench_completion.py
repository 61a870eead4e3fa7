"""Shell completion: whole-process wall time of a TAB press against `import msgpack, socket`."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time

import pytest
from benchlib import JSCTL_SCRIPT, default_env, median_ms, report
from jsctl_testing import DaemonProcess, short_tempdir

pytestmark = pytest.mark.bench

BASELINE = "python -c 'import msgpack, socket'"


def run_rounds(
    rows: dict[str, tuple[list[str], dict[str, str]]], runs: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU (user+sys) ms per row; every row runs once per round, so machine
    noise hits all alike (CPU time is the steadier figure on a busy machine)."""
    wall: dict[str, list[float]] = {name: [] for name in rows}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for round_number in range(runs + 2):
        for name, (argv, env) in rows.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            elapsed = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_number >= 2:  # the first rounds warm the page cache and write .pyc files
                wall[name].append(elapsed)
                cpu[name].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
    return (
        {name: median_ms(values) for name, values in wall.items()},
        {name: median_ms(values) for name, values in cpu.items()},
    )


def test_completion_process_against_python_floor() -> None:
    empty_home = short_tempdir("jsb")
    try:
        with DaemonProcess.started() as daemon:
            # Like an installed package: byte-code is cached (pip compiles it; warm-up writes it).
            base_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            no_daemon = {**base_env, "JSCTL_HOME": str(empty_home), "_JSCTL_COMPLETE": "bash"}
            # as a user's shell runs it: no JSCTL_* overrides, the default socket path
            with_daemon = {**default_env(daemon.paths.socket), "_JSCTL_COMPLETE": "bash"}
            rows = {
                BASELINE: ([sys.executable, "-c", "import msgpack, socket"], no_daemon),
                "TAB: subcommand (static spec)": ([JSCTL_SCRIPT, "ex"], no_daemon),
                "TAB: session, no daemon": ([JSCTL_SCRIPT, "attach", ""], no_daemon),
                "TAB: session, daemon answers": ([JSCTL_SCRIPT, "attach", ""], with_daemon),
                "TAB: profile, daemon answers": (
                    [JSCTL_SCRIPT, "profile", "use", ""],
                    with_daemon,
                ),
                "python -c 'import click' (avoided)": (
                    [sys.executable, "-c", "import click"],
                    no_daemon,
                ),
            }
            wall, cpu = run_rounds(rows, int(os.environ.get("JSCTL_BENCH_RUNS", "30")))
    finally:
        shutil.rmtree(empty_home, ignore_errors=True)
    report("completion whole-process wall time, median (ms)", wall, baseline=BASELINE, target=1.1)
    report("completion whole-process CPU time (user+sys), median (ms)", cpu, baseline=BASELINE)
    assert all(value > 0 for value in wall.values())
