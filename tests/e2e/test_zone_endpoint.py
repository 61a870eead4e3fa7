"""Assets behind a zone KoKo: jsctl asks the core's smart endpoint where KoKo serves the asset
(as Luna does) and opens terminals and file sessions there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jsctl_fixtures import LoggedIn

from jsctl_daemon.jumpserver._endpoint import koko_config
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_protocol import RpcError
from jsctl_sandbox.testing import SandboxInfo


def test_endpoint_rules() -> None:
    site = ServerConfig("https://jms.example.com/prefix")
    assert koko_config(site, {}) is site
    assert koko_config(site, {"host": "", "https_port": 8443}) is site  # Default: the core's
    zone = koko_config(site, {"host": "koko.zone-b.example", "https_port": 8443})
    assert zone.url == "https://koko.zone-b.example:8443/prefix"
    assert koko_config(site, {"host": "10.1.0.5", "https_port": 443}).url == (
        "https://10.1.0.5/prefix"
    )


@pytest.fixture
def zoned(shared_login: LoggedIn, sandbox: SandboxInfo) -> Iterator[LoggedIn]:
    yield shared_login
    sandbox.control().reset()


def _route(sandbox: SandboxInfo, host: str) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    sandbox.control().call(
        "POST", "endpoints/", {"asset": "web-01", "host": host, "https_port": port}
    )


def test_terminals_and_files_follow_the_smart_endpoint(
    zoned: LoggedIn, sandbox: SandboxInfo
) -> None:
    daemon = zoned.daemon
    _route(sandbox, "127.0.0.9")  # nothing listens there: following it must fail
    with daemon.client() as client:
        with pytest.raises(RpcError, match=r"127\.0\.0\.9"):
            client.call("session.open", asset="web-01")
        for session in client.call("files.sessions")["sessions"]:
            client.call("files.close", session=session["id"])
        failed = daemon.cli("ls", "web-01:/")
        assert failed.returncode != 0 and "127.0.0.9" in failed.stderr, failed.stderr
        _route(sandbox, "localhost")  # the same sandbox under another name: a working zone
        session = client.call("session.open", asset="web-01")["session"]["id"]
        done = client.call("run.start", session=session, command="echo zone-$((4*4))", wait=20)
        assert done["state"] == "done" and b"zone-16" in done["output"]
        # The core's answer for an asset is kept for 30 s (a fleet or exec's pool reopening
        # the asset asks once): a terminal opened now still goes where it said a moment ago.
        _route(sandbox, "127.0.0.9")
        again = client.call("session.open", asset="web-01")["session"]["id"]
        client.call("session.kill", sessions=[session, again])
        _route(sandbox, "localhost")
    assert daemon.cli("ls", "web-01:/").returncode == 0
