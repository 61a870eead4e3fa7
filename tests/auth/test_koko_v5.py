"""JumpServer v5: KoKo takes the access key, so terminals and files outlive the web session.

Against `sandbox --server-version 5.0` the daemon opens terminals and file sessions with
access-key signed headers, without a web session; against v4 the same expiry still asks for
`jsctl login`. A revoked key falls back to the web session while it lives, then asks for login.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsctl_fixtures import login
from jsctl_testing import DaemonProcess

from jsctl_sandbox.testing import SandboxFactory

ASSET = "web-01"


def run_json(daemon: DaemonProcess, *args: str) -> dict:
    result = daemon.cli("--json", *args)
    assert result.returncode == 0, result.stderr
    parsed: dict = json.loads(result.stdout)
    return parsed


@pytest.mark.parametrize("files_api", ["sftp", "elfinder"])
def test_v5_terminal_and_files_after_web_session_expired(
    fresh_sandbox: SandboxFactory, tmp_path: Path, files_api: str
) -> None:
    with (
        fresh_sandbox("--no-throttle", "--server-version", "5.0") as sandbox,
        DaemonProcess.started(JSCTL_FILES_API=files_api) as daemon,
    ):
        login(daemon, sandbox)
        control = sandbox.control()
        assert control.expire_sessions() >= 1
        logins_before = control.counters().get("web_logins", 0)

        ran = daemon.cli("exec", ASSET, "--", "echo", "v5-$((6*7))")
        assert ran.returncode == 0, ran.stderr
        assert "v5-42" in ran.stdout

        source = tmp_path / "up.bin"
        source.write_bytes(bytes(range(256)) * 40)
        run_json(daemon, "cp", str(source), f"{ASSET}:/v5-up.bin")
        root = sandbox.data_dir / "assets" / ASSET / "tmp"
        assert (root / "v5-up.bin").read_bytes() == source.read_bytes()
        back = tmp_path / "back.bin"
        run_json(daemon, "cp", f"{ASSET}:/v5-up.bin", str(back))
        assert back.read_bytes() == source.read_bytes()

        counters = control.counters()
        assert counters.get("web_logins", 0) == logins_before  # no new login
        assert counters.get("koko_auth_headers", 0) >= 2  # terminal + file session
        assert counters.get("koko_auth_cookie", 0) == 0  # the cookie was never what worked

        who = run_json(daemon, "whoami")
        assert who["web_session"]["valid"] is False
        assert who["koko"]["via"] == "access_key" and who["koko"]["header_auth"] is True
        assert "fix" not in who["web_session"]
        human = daemon.cli("whoami")
        assert human.returncode == 0, human.stderr
        assert "terminals    via access key" in human.stdout
        assert "not needed" in human.stdout and "EXPIRED" not in human.stdout

        doctor = json.loads(daemon.cli("--json", "doctor").stdout)
        checks = {c["name"]: c for c in doctor["checks"]}
        assert checks["koko-auth"]["ok"] and "access key" in checks["koko-auth"]["detail"]
        assert checks["web-session"]["ok"] and "not needed" in checks["web-session"]["detail"]


def test_v4_expiry_still_asks_for_login(fresh_sandbox: SandboxFactory, tmp_path: Path) -> None:
    with fresh_sandbox("--no-throttle") as sandbox, DaemonProcess.started() as daemon:
        login(daemon, sandbox)
        who = run_json(daemon, "whoami")
        assert who["koko"]["via"] == "web_session" and who["koko"]["header_auth"] is False
        assert "before v5" in who["koko"]["detail"]
        sandbox.control().expire_sessions()
        refused = daemon.cli("exec", ASSET, "--", "true")
        assert refused.returncode == 1
        assert "has expired" in refused.stderr and "jsctl login" in refused.stderr
        source = tmp_path / "f.txt"
        source.write_text("x")
        copied = daemon.cli("cp", str(source), f"{ASSET}:/v4-f.txt")
        assert copied.returncode != 0
        assert "jsctl login" in copied.stderr and "Traceback" not in copied.stderr
        human = daemon.cli("whoami")
        assert "terminals    via web session" in human.stdout and "EXPIRED" in human.stdout
        doctor = json.loads(daemon.cli("--json", "doctor").stdout)
        checks = {c["name"]: c for c in doctor["checks"]}
        assert not checks["koko-auth"]["ok"] and "jsctl login" in checks["koko-auth"]["fix"]


@pytest.mark.parametrize("first_after_revoking", ["terminal", "file"])
def test_v5_revoked_key_falls_back_to_the_web_session_then_asks_for_login(
    fresh_sandbox: SandboxFactory, tmp_path: Path, first_after_revoking: str
) -> None:
    with (
        fresh_sandbox("--no-throttle", "--server-version", "5.0") as sandbox,
        DaemonProcess.started() as daemon,
    ):
        login(daemon, sandbox)
        control = sandbox.control()
        first = daemon.cli("exec", ASSET, "--", "echo", "with-key")  # KoKo takes the key
        assert first.returncode == 0 and "with-key" in first.stdout, first.stderr
        assert control.counters().get("koko_auth_cookie", 0) == 0
        control.clear_access_keys("mei")  # revoked on the server
        # KoKo refuses the remembered key; jsctl asks again and retries on the web session,
        # which lives. (exec reuses a live session per asset: a new asset opens a new terminal.)
        source = tmp_path / "f.txt"
        source.write_text("after revoking")
        if first_after_revoking == "file":
            run_json(daemon, "cp", str(source), f"{ASSET}:/revoked.txt")
        second = daemon.cli("exec", "web-02", "--", "echo", "with-cookie")
        assert second.returncode == 0 and "with-cookie" in second.stdout, second.stderr
        if first_after_revoking == "terminal":
            run_json(daemon, "cp", str(source), f"{ASSET}:/revoked.txt")
        assert control.counters().get("koko_auth_cookie", 0) == 2
        who = run_json(daemon, "whoami")
        assert who["koko"]["via"] == "web_session" and who["koko"]["header_auth"] is True
        assert "refused" in who["koko"]["detail"]
        control.expire_sessions()  # now both credentials are gone: MFA again
        gone = daemon.cli("exec", "db-01", "--", "true")
        assert gone.returncode == 1
        assert "jsctl login" in gone.stderr and "Traceback" not in gone.stderr
