"""jsctl against the edge flows of real JumpServers, through the real CLI and daemon
against a fresh sandbox each: password change, MFA not set up, a wrong org, a revoked access key,
KoKo not routed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from jsctl_fixtures import login, otp_command
from jsctl_testing import DaemonProcess

from jsctl_sandbox.testing import SandboxFactory, SandboxInfo


@pytest.fixture
def pristine(fresh_sandbox: SandboxFactory) -> Iterator[SandboxInfo]:
    with fresh_sandbox("--no-throttle") as sb:
        yield sb


def _login(
    daemon: DaemonProcess, sb: SandboxInfo, username: str, *extra: str
) -> tuple[int, str, str]:
    user = sb.user(username)
    args = ["login", "--url", sb.url, "--username", username, "--ca-file", sb.ca_file, *extra]
    if user.totp_secret:
        args += ["--otp-command", otp_command(sb, username)]
    result = daemon.cli(*args, input=user.password + "\n")
    return result.returncode, result.stdout, result.stderr


def test_password_change_required_is_explained(
    pristine: SandboxInfo, jsctl_daemon: DaemonProcess
) -> None:
    pristine.control().call("POST", "users/admin/", {"must_change_password": True})
    code, _, err = _login(jsctl_daemon, pristine, "admin")
    assert code != 0
    assert "requires a password change for `admin`" in err
    assert f"{pristine.url}/core/auth/password/reset/?token=" in err
    assert "expired" not in err
    status = jsctl_daemon.cli("whoami")
    assert status.returncode != 0 and "no JumpServer profile yet" in status.stderr


def test_mfa_not_set_up_is_explained(pristine: SandboxInfo, jsctl_daemon: DaemonProcess) -> None:
    pristine.control().call("POST", "users/mei/", {"mfa": "forced"})
    result = jsctl_daemon.cli(
        "login", "--url", pristine.url, "--username", "mei", "--ca-file", pristine.ca_file,
        input=pristine.user("mei").password + "\n",
    )  # fmt: skip
    assert result.returncode != 0
    assert "no authenticator is bound yet" in result.stderr
    assert "/core/auth/profile/otp/enable/start/" in result.stderr


def test_wrong_org_is_refused_at_login_with_the_valid_ones(
    pristine: SandboxInfo, jsctl_daemon: DaemonProcess
) -> None:
    code, _, err = _login(jsctl_daemon, pristine, "mei", "--org", "Nope")
    assert code != 0
    assert "has no organisation `Nope`" in err
    assert "`All organizations`, `DEFAULT`, `Staging`" in err
    assert jsctl_daemon.cli("whoami").returncode != 0
    code, _, err = _login(jsctl_daemon, pristine, "mei", "--org", "staging")
    assert code == 0, err
    info = json.loads(jsctl_daemon.cli("whoami", "--json").stdout)
    assert info["org_name"] == "Staging" and info["org"] != "staging"  # stored as the id
    names = [a["name"] for a in json.loads(jsctl_daemon.cli("assets", "--json").stdout)["assets"]]
    assert names == ["stg-web-01"]


def test_revoked_key_falls_back_to_the_web_session(
    pristine: SandboxInfo, jsctl_daemon: DaemonProcess
) -> None:
    login(jsctl_daemon, pristine)
    first = json.loads(jsctl_daemon.cli("whoami", "--json").stdout)
    assert first["access_key"]["ok"] is True
    revoked = pristine.control().call("POST", "access-keys/revoke/", {"username": "mei"})
    assert revoked["revoked"] >= 1
    result = jsctl_daemon.cli("whoami", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["user"]["username"] == "mei"
    assert info["access_key"]["revoked"] is True and info["access_key"]["ok"] is False
    assert "revoked on the server" in info["access_key"]["error"]
    human = jsctl_daemon.cli("whoami").stdout
    assert "REVOKED on the server" in human and "Mei Chen (mei)" in human
    listing = jsctl_daemon.cli("assets", "--refresh", "--json")
    assert listing.returncode == 0, listing.stderr  # REST keeps working on the web session
    doctor = jsctl_daemon.cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["access-key"]["ok"] is False and "jsctl login" in checks["access-key"]["fix"]
    pristine.control().expire_sessions()
    gone = jsctl_daemon.cli("whoami")
    assert gone.returncode != 0
    assert "revoked on the server" in gone.stderr and "jsctl login" in gone.stderr
    login(jsctl_daemon, pristine)  # the next login creates a new key
    again = json.loads(jsctl_daemon.cli("whoami", "--json").stdout)
    assert again["access_key"]["ok"] is True
    assert again["access_key"]["id"] != first["access_key"]["id"]


def test_koko_not_routed_points_to_doctor(
    pristine: SandboxInfo, jsctl_daemon: DaemonProcess
) -> None:
    login(jsctl_daemon, pristine)
    pristine.control().call("POST", "koko/routing/", {"routed": False})
    run = jsctl_daemon.cli("exec", "web-01", "--", "true")
    assert run.returncode != 0
    assert "KoKo is not reachable under /koko/" in run.stderr and "jsctl doctor" in run.stderr
    assert "refused the terminal" not in run.stderr
    files = jsctl_daemon.cli("ls", "web-01:/tmp")
    assert files.returncode != 0
    assert "KoKo is not reachable under /koko/" in files.stderr
    assert "terminal" not in files.stderr
    doctor = json.loads(jsctl_daemon.cli("doctor", "--json").stdout)
    koko = next(c for c in doctor["checks"] if c["name"] == "koko")
    assert koko["ok"] is False and "not reachable under /koko/" in koko["detail"]
