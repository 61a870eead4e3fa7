"""A persistent sandbox refuses a second instance and a damaged state file, and saves while up."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from jsctl_sandbox.testing import parse_announcement, wait_ready, web_login


def _run(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jsctl_sandbox", "--json", "--data-dir", str(data_dir), *extra],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_second_sandbox_on_one_data_dir_is_refused_and_state_is_saved_while_up(
    tmp_path: Path,
) -> None:
    first = subprocess.Popen(
        [sys.executable, "-m", "jsctl_sandbox", "--json", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert first.stdout is not None
        info = parse_announcement(first.stdout.readline(), first.pid)
        wait_ready(info, time.monotonic() + 20)
        second = _run(tmp_path, "--port", "0")
        assert second.returncode == 2
        assert f"another sandbox is running on {tmp_path}" in second.stderr
        c = web_login(info, "admin")
        session = c.cookies["jms_sessionid"]
        state_file = tmp_path / "sandbox-state.json"
        deadline = time.monotonic() + 20
        while session not in state_file.read_text():  # saved within SAVE_EVERY_S, no stop
            assert time.monotonic() < deadline, "the new session was never saved"
            time.sleep(0.5)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
        if first.stdout is not None:
            first.stdout.close()


def test_damaged_state_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "sandbox-state.json").write_text("{not json")
    result = _run(tmp_path)
    assert result.returncode == 2 and "sandbox-state.json" in result.stderr
    assert "move it away" in result.stderr
    bad_types = {"format": 1, "users": {"admin": {"password": "x", "access_keys": [{"x": 1}]}}}
    (tmp_path / "sandbox-state.json").write_text(json.dumps(bad_types))
    result = _run(tmp_path)
    assert result.returncode == 2 and "is damaged" in result.stderr
    assert "Traceback" not in result.stderr
