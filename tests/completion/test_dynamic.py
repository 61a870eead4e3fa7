"""Names from a real daemon's cache (logged in to the sandbox), and what happens without one."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator

import pytest
from completion_shells import bash_complete
from jsctl_fixtures import LoggedIn
from jsctl_testing import JSCTL, short_tempdir


def complete(env: dict[str, str], shell: str, *args: str) -> list[str]:
    done = subprocess.run(
        [*JSCTL, *args],
        env={**env, "_JSCTL_COMPLETE": shell},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 0 and done.stderr == ""
    return [line.split("\t")[1] for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def warm(shared_login: LoggedIn) -> Iterator[LoggedIn]:
    """The daemon with its asset list, web-01's accounts and one named session in memory."""
    daemon = shared_login.daemon
    for args in (["assets"], ["accounts", "web-01"], ["exec", "web-01", "--", "true"]):
        done = daemon.cli(*args)
        assert done.returncode == 0, done.stderr
    listed = daemon.client().call("session.list")["sessions"]
    assert daemon.cli("rename", listed[0]["id"], "build").returncode == 0
    yield shared_login


def test_asset_names_by_prefix(warm: LoggedIn) -> None:
    env = warm.daemon.env
    assert {"web-01", "web-02", "db-01"} <= set(complete(env, "bash", "exec", ""))
    assert complete(env, "bash", "shell", "web") == ["web-01", "web-02"]


def test_accounts_of_the_asset_already_typed(warm: LoggedIn) -> None:
    env = warm.daemon.env
    accounts = warm.daemon.client().call("accounts.list", asset="web-01")["accounts"]
    known = {a[key] for a in accounts for key in ("alias", "name", "username")}
    offered = complete(env, "bash", "exec", "web-01", "--account", "")
    assert "deploy" in offered and set(offered) <= known
    assert complete(env, "bash", "exec", "web-01", "-a", "dep") == ["deploy"]
    assert complete(env, "bash", "exec", "no-such-asset", "--account", "") == []


def test_sessions_by_name_and_id(warm: LoggedIn) -> None:
    env = warm.daemon.env
    assert complete(env, "bash", "attach", "bu") == ["build"]
    session_id = warm.daemon.client().call("session.list")["sessions"][0]["id"]
    assert session_id in complete(env, "bash", "kill", "build", "")


def test_profiles_in_both_option_spellings(warm: LoggedIn) -> None:
    env = warm.daemon.env
    assert complete(env, "bash", "profile", "use", "") == ["default"]
    assert complete(env, "bash", "exec", "--profile", "=", "de") == ["default"]  # after "="
    assert complete(env, "fish", "exec", "--profile=de") == ["--profile=default"]
    assert complete(env, "zsh", "exec", "-p", "") == ["default"]


def test_client_names_skip_revoked_ones(warm: LoggedIn) -> None:
    daemon = warm.daemon
    for name in ("ci-bot", "old-bot"):
        assert daemon.cli("client", "create", name, "--allow", "web-*").returncode == 0
    assert daemon.cli("client", "revoke", "old-bot").returncode == 0
    assert complete(daemon.env, "bash", "client", "revoke", "") == ["ci-bot"]


def test_a_daemon_that_never_answers_yields_nothing_at_once() -> None:
    home = short_tempdir("jsn")
    (home / "run").mkdir(mode=0o700)
    stuck = socket.socket(socket.AF_UNIX)
    stuck.bind(str(home / "run" / "jsctl.sock"))
    stuck.listen(1)  # accepts connections into the backlog, never reads or replies
    try:
        env = {**os.environ, "JSCTL_HOME": str(home)}
        assert complete(env, "bash", "attach", "") == []  # within complete()'s 10 s guard
        assert complete(env, "bash", "att") == ["attach"]
    finally:
        stuck.close()


def test_real_bash_gets_daemon_names(warm: LoggedIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSCTL_HOME", warm.daemon.env["JSCTL_HOME"])
    assert bash_complete(["jsctl", "exec", "--profile", "=", "de"]) == ["default"]
    assert bash_complete(["jsctl", "attach", "bu"]) == ["build"]
