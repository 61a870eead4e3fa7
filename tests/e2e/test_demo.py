"""The README's first command ends in `jsctl demo`: it must work end to end, as a newcomer sees."""

from __future__ import annotations

import os
import subprocess

from jsctl_testing import JSCTL, short_tempdir


def test_demo_runs_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSCTL_")}
    env["HOME"] = str(short_tempdir("jsdemo"))  # nothing of the user's own state is touched
    result = subprocess.run(
        [*JSCTL, "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "Logged in as Mei Chen" in out
    assert "web-01" in out and "db-01" in out  # the asset table
    assert "hello from web-01" in out
    assert "(exit status 2)" in out  # a failing command's real status
    assert "2 assets: active — web-01, web-02" in out  # the fleet step, grouped
    assert "(exit status 4: some assets failed)" in out  # db-01 and staging-api-01 run no nginx
    assert "step 3" in out  # the detached run's output, read later
    assert "still-here from /tmp" in out  # the reattached shell kept its state
    assert "Traceback" not in out
