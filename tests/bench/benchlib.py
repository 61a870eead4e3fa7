"""Small helpers for benchmarks: timing whole processes and printing figures with ratios."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def time_calls(call: Callable[[], object], count: int, warmup: int = 20) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def time_process(argv: Sequence[str], env: dict[str, str], runs: int) -> list[float]:
    """Wall times of whole process runs (interleave callers to share machine noise)."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples


def interleaved(
    commands: dict[str, Sequence[str]],
    env: dict[str, str],
    runs: int,
) -> dict[str, list[float]]:
    """Run each command once per round, ``runs`` rounds, so noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache
        time_process(argv, env, 2)
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].extend(time_process(argv, env, 1))
    return samples


def report(
    title: str,
    rows: dict[str, float],
    unit: str = "ms",
    baseline: str | None = None,
    target: float | None = None,
) -> None:
    print(f"\n--- {title}")
    base = rows.get(baseline) if baseline else None
    for name, value in rows.items():
        ratio = f"  ({value / base:.2f}x {baseline})" if base and name != baseline else ""
        print(f"  {name:40} {value:10.3f} {unit}{ratio}")
    if target is not None:
        print(f"  target: <= {target}x")


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


# What the user's shell runs: the installed console script (not `python -m`, which adds runpy).
JSCTL_SCRIPT = str(Path(sys.executable).parent / "jsctl")


def default_env(socket: Path) -> dict[str, str]:
    """A user's environment: no JSCTL_* variable (so paths resolve the default way, through
    the platform's directories), a fresh HOME whose runtime directory's default socket path
    leads to ``socket`` (the benchmark's daemon)."""
    home = Path(tempfile.mkdtemp(prefix="jsbh", dir="/tmp"))
    runtime = home / "run"
    (runtime / "jsctl").mkdir(parents=True, mode=0o700)
    (runtime / "jsctl" / "jsctl.sock").symlink_to(socket)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JSCTL_", "_JSCTL_", "XDG_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    return {**env, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
