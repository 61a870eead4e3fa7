"""Watching another's session: `jsctl attach` as an agent client, and watch links (`jsctl share`)
through the real daemon, sandbox and a real terminal."""

from __future__ import annotations

import os
import pty
import select
import sys
import time

from jsctl_fixtures import LoggedIn
from jsctl_testing import DaemonProcess


def _agent(daemon: DaemonProcess, name: str, allow: str) -> dict[str, str]:
    """The environment of an agent client allowed ``allow`` (its token as jsctl reads it)."""
    token_file = daemon.home / f"{name}.token"
    made = daemon.cli("client", "create", name, "--allow", allow, "--token-file", str(token_file))
    assert made.returncode == 0, made.stderr
    return {**daemon.env, "JSCTL_CLIENT_TOKEN": token_file.read_text().strip()}


def _in_a_terminal(env: dict[str, str], *args: str) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(sys.executable, [sys.executable, "-m", "jsctl_clients", *args], env)
    return pid, fd


def _drain(fd: int, seconds: float, until: bytes = b"") -> bytes:
    out = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not (until and until in out):
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def _finish(pid: int, fd: int) -> tuple[int, bytes]:
    """The exit code of the CLI in the terminal, pressing Ctrl-] d if it still runs."""
    out = _drain(fd, 1.0)
    ended, status = os.waitpid(pid, os.WNOHANG)
    if ended == 0:
        os.write(fd, b"\x1dd")
        out += _drain(fd, 3.0)
        _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_an_agents_attach_is_the_agent_not_the_person(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    agent = _agent(daemon, "attacher", "web-*")
    with daemon.client(token=agent["JSCTL_CLIENT_TOKEN"]) as client:
        session = client.call("session.open", asset="web-01")["session"]["id"]
    pid, fd = _in_a_terminal(agent, "attach", session)
    try:
        _drain(fd, 1.5)
        with daemon.client() as person:
            attached = person.call("session.get", session=session)["session"]["attachments"]
        # It was attached (and typed) as the person, outside the client's rules and audit.
        assert [a["client"] for a in attached] == ["attacher"], attached
    finally:
        code, out = _finish(pid, fd)
    assert code == 0, out
    with daemon.client() as person:
        person_session = person.call("session.open", asset="web-02")["session"]["id"]
    pid, fd = _in_a_terminal(agent, "attach", "--read-only", person_session)
    code, out = _finish(pid, fd)
    assert code == 1 and b"no session" in out, out
    daemon.cli("kill", session, person_session)
