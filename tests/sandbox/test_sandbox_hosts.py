"""Each sandbox asset answers as its own host: `hostname` and `systemctl` (its own units).

Driven through the real daemon and the sandbox's real shells, the way a fleet command meets them.
"""

from __future__ import annotations

from jsctl_fixtures import LoggedIn

from jsctl_sandbox._services import default_units


def test_each_asset_has_its_name_and_its_role_service(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    for asset in ("web-01", "db-01"):
        assert cli("exec", asset, "--", "hostname").stdout == f"{asset}\n"
    web = cli("exec", "web-01", "--", "systemctl is-active nginx sshd")
    assert (web.returncode, web.stdout) == (0, "active\nactive\n"), web.stderr
    db = cli("exec", "db-01", "--", "systemctl is-active nginx postgresql")
    assert (db.returncode, db.stdout) == (3, "inactive\nactive\n")  # db-01 runs no nginx
    quiet = cli("exec", "db-01", "--", "systemctl --quiet is-active postgresql.service")
    assert (quiet.returncode, quiet.stdout) == (0, "")
    listed = cli("exec", "db-01", "--", "systemctl list-units").stdout
    assert "postgresql.service        loaded active   running" in listed
    assert cli("exec", "web-01", "--", "hostname -I >/dev/null; echo $?").stdout == "0\n"


def test_changing_a_unit_needs_root_and_sticks(shared_login: LoggedIn) -> None:
    cli = shared_login.daemon.cli
    refused = cli("exec", "staging-api-01", "--", "systemctl stop gunicorn")
    assert refused.returncode == 1
    assert "Failed to stop gunicorn.service: Interactive authentication required." in refused.stderr
    root = "JSCTL_SANDBOX_USER=root systemctl"  # what the sandbox's sudo sets for its command
    try:
        assert cli("exec", "staging-api-01", "--", f"{root} stop gunicorn").returncode == 0
        status = cli("exec", "staging-api-01", "--", "systemctl status gunicorn")
        assert status.returncode == 3 and "Active: inactive (dead)" in status.stdout
        missing = cli("exec", "staging-api-01", "--", f"{root} restart nosuch")
        assert missing.returncode == 5 and "Unit nosuch.service not found." in missing.stderr
        unknown = cli("exec", "staging-api-01", "--", "systemctl status nosuch")
        assert unknown.returncode == 4 and "could not be found" in unknown.stderr
        bad = cli("exec", "staging-api-01", "--", "systemctl frobnicate x")
        assert bad.returncode == 1 and "Unknown command verb frobnicate." in bad.stderr
    finally:
        cli("exec", "staging-api-01", "--", f"{root} start gunicorn")
    again = cli("exec", "staging-api-01", "--", "systemctl is-active gunicorn")
    assert (again.returncode, again.stdout) == (0, "active\n")


def test_generated_fleets_have_a_few_odd_ones_out() -> None:
    assert default_units("web-00006") == {"sshd": "active", "cron": "active", "nginx": "inactive"}
    assert default_units("web-00056")["nginx"] == "inactive"
    assert default_units("web-00011")["nginx"] == "active"
    assert default_units("web-06")["nginx"] == "active"  # hand-named assets are all running
    assert default_units("stg-web-01") == {"sshd": "active", "cron": "active", "nginx": "active"}
    assert default_units("weird name") == {"sshd": "active", "cron": "active"}
