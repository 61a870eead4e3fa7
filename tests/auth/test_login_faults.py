"""Login against things that are not a healthy JumpServer, and profile defaults from config."""

from __future__ import annotations

import contextlib
import http.server
import json
from collections.abc import Iterator
from typing import Any

from jsctl_fixtures import otp_command
from jsctl_testing import DaemonProcess, local_http_server

from jsctl_sandbox.testing import SandboxInfo


@contextlib.contextmanager
def plain_web_server() -> Iterator[str]:
    """A web server on loopback that is not a JumpServer."""

    with local_http_server(http.server.SimpleHTTPRequestHandler) as url:
        yield url


def test_a_url_that_is_not_a_jumpserver(jsctl_daemon: DaemonProcess) -> None:
    with plain_web_server() as url:
        result = jsctl_daemon.cli("login", "--url", url, "--username", "mei", input="x\n")
    assert result.returncode == 1
    assert "does not look like a JumpServer" in result.stderr
    assert "Traceback" not in result.stderr


def test_server_errors_and_garbage_during_login(
    jsctl_daemon: DaemonProcess, fresh_sandbox: Any
) -> None:
    with fresh_sandbox("--no-throttle") as sandbox:
        control = sandbox.control()
        base = [
            "login",
            "--url",
            sandbox.url,
            "--username",
            "mei",
            "--ca-file",
            sandbox.ca_file,
            "--otp-command",
            otp_command(sandbox, "mei"),
        ]
        password = sandbox.user("mei").password + "\n"
        control.add_fault("/core/auth/login/", kind="status", status=502, times=1)
        failed = jsctl_daemon.cli(*base, input=password)
        assert failed.returncode == 1 and "502" in failed.stderr, failed.stderr
        control.add_fault("/api/v1/users/profile/", kind="garbage", times=1)
        garbage = jsctl_daemon.cli(*base, input=password)
        assert "Traceback" not in garbage.stderr
        control.reset()
        ok = jsctl_daemon.cli(*base, input=password)
        assert ok.returncode == 0, ok.stderr
        jsctl_daemon.cli("logout")


def test_profile_defaults_from_the_config_file(
    jsctl_daemon: DaemonProcess, sandbox: SandboxInfo
) -> None:
    config = jsctl_daemon.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        'default_profile = "corp"\n\n[profiles.corp]\n'
        f'url = "{sandbox.url}"\nusername = "mei"\nca_file = "{sandbox.ca_file}"\n'
    )
    jsctl_daemon.stop()
    jsctl_daemon.start()
    result = jsctl_daemon.cli(
        "login",
        "--otp-command",
        otp_command(sandbox, "mei"),
        input=sandbox.user("mei").password + "\n",
    )
    assert result.returncode == 0, result.stderr
    who = json.loads(jsctl_daemon.cli("whoami", "--json").stdout)
    assert who["profile"] == "corp" and who["username"] == "mei"
    jsctl_daemon.cli("logout")


def test_a_broken_config_file_is_named(jsctl_daemon: DaemonProcess) -> None:
    config = jsctl_daemon.paths.config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[daemon]\nkeepalive_interval = 'soon'\n")
    jsctl_daemon.stop()
    process = jsctl_daemon.start_failing()
    assert process.returncode == 1
    assert "keepalive_interval" in process.stderr and str(config) in process.stderr
