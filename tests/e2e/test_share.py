"""Watching another's session: `jsctl attach` as an agent client, and watch links (`jsctl share`)
through the real daemon, sandbox and a real terminal."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from jsctl_fixtures import LoggedIn
from jsctl_testing import DaemonProcess, drain_pty, in_a_terminal

from jsctl_protocol import ErrorCode, RpcError


def _agent(daemon: DaemonProcess, name: str, allow: str) -> dict[str, str]:
    """The environment of an agent client allowed ``allow`` (its token as jsctl reads it)."""
    token_file = daemon.home / f"{name}.token"
    made = daemon.cli("client", "create", name, "--allow", allow, "--token-file", str(token_file))
    assert made.returncode == 0, made.stderr
    return {**daemon.env, "JSCTL_CLIENT_TOKEN": token_file.read_text().strip()}


def _finish(pid: int, fd: int) -> tuple[int, bytes]:
    """The exit code of the CLI in the terminal, pressing Ctrl-] d if it still runs."""
    out = drain_pty(fd, 1.0)
    ended, status = os.waitpid(pid, os.WNOHANG)
    if ended == 0:
        os.write(fd, b"\x1dd")
        out += drain_pty(fd, 3.0)
        _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


def test_an_agents_attach_is_the_agent_not_the_person(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    agent = _agent(daemon, "attacher", "web-*")
    with daemon.client(token=agent["JSCTL_CLIENT_TOKEN"]) as client:
        session = client.call("session.open", asset="web-01")["session"]["id"]
    pid, fd = in_a_terminal(agent, "attach", session)
    try:
        drain_pty(fd, 1.5)
        with daemon.client() as person:
            attached = person.call("session.get", session=session)["session"]["attachments"]
        # It was attached (and typed) as the person, outside the client's rules and audit.
        assert [a["client"] for a in attached] == ["attacher"], attached
    finally:
        code, out = _finish(pid, fd)
    assert code == 0, out
    with daemon.client() as person:
        person_session = person.call("session.open", asset="web-02")["session"]["id"]
    pid, fd = in_a_terminal(agent, "attach", "--read-only", person_session)
    code, out = _finish(pid, fd)
    assert code == 1 and b"no session" in out, out
    daemon.cli("kill", session, person_session)


def _share(daemon: DaemonProcess, session: str, *args: str) -> dict[str, Any]:
    shared = daemon.cli("share", session, "--json", *args)
    assert shared.returncode == 0, shared.stderr
    reply: dict[str, Any] = json.loads(shared.stdout)
    assert reply["token"].startswith("jsw-") and len(reply["token"]) >= 36
    assert reply["command"] == f"jsctl attach --read-only {reply['token']}"
    return reply


def test_a_watch_link_shows_the_session_once_read_only(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    with daemon.client() as person:
        session = person.call("session.open", asset="web-01", name="shared-box")["session"]["id"]
    human = daemon.cli("share", "shared-box")
    assert human.returncode == 0, human.stderr
    assert f"session {session} (web-01): read-only, usable once, within 10 min" in human.stdout
    link = _share(daemon, "shared-box")
    pid, fd = in_a_terminal(daemon.env, "attach", "--read-only", link["token"])
    try:
        assert b"attached to a shared session read-only" in drain_pty(fd, 5.0, b"read-only")
        with daemon.client() as person:
            person.call("session.write", session=session, data="echo seen-$((6*7))\r")
        assert b"seen-42" in drain_pty(fd, 10.0, b"seen-42")
        os.write(fd, b"echo typed-by-watcher\r")  # a watcher's keys go nowhere
        drain_pty(fd, 1.0)
        with daemon.client() as person:
            screen = person.call("session.screen", session=session)["text"]
            attached = person.call("session.get", session=session)["session"]["attachments"]
        assert "typed-by-watcher" not in screen
        assert [a["read_only"] for a in attached] == [True]
    finally:
        code, out = _finish(pid, fd)
    assert code == 0 and b"a new link to return" in out, out
    assert link["token"].encode() not in out.split(b"\n", 1)[1]
    pid, fd = in_a_terminal(daemon.env, "attach", "--read-only", link["token"])
    code, again = _finish(pid, fd)  # spent
    assert code == 1 and b"unknown, used or expired" in again, again
    assert link["token"].encode() not in again.split(b"\n", 1)[1]
    daemon.cli("kill", session)


def test_watch_links_refuse_wrong_expired_writable_foreign_and_garbage(
    shared_login: LoggedIn,
) -> None:
    daemon = shared_login.daemon
    with daemon.client() as person:
        session = person.call("session.open", asset="web-02")["session"]["id"]
        wrong = "jsw-" + "A" * 32
        garbage = "jsw-\x1b[2J\x00" + "é" * 20
        for token in (wrong, garbage, "jsw-"):
            with pytest.raises(RpcError) as refused:
                next(iter(person.stream("session.attach", session=token, read_only=True)))
            assert refused.value.code == ErrorCode.NOT_FOUND
            assert "unknown, used or expired" in refused.value.message
            assert token not in refused.value.message
        link = person.call("session.share", session=session)["token"]
        with pytest.raises(RpcError) as writable:  # a link never types: not spent by asking
            next(iter(person.stream("session.attach", session=link)))
        assert (
            writable.value.code == ErrorCode.FORBIDDEN and "only watches" in writable.value.message
        )
        short = person.call("session.share", session=session, expires=1)["token"]
        time.sleep(1.3)
        with pytest.raises(RpcError) as expired:
            next(iter(person.stream("session.attach", session=short, read_only=True)))
        assert expired.value.code == ErrorCode.NOT_FOUND
        for bad in ({"expires": 0}, {"expires": 86401}, {"expires": float("nan")}):
            with pytest.raises(RpcError) as out_of_range:
                person.call("session.share", session=session, **bad)
            assert out_of_range.value.code == ErrorCode.BAD_PARAMS
        with pytest.raises(RpcError) as unknown:
            person.call("session.share", session="no-such-session")
        assert unknown.value.code == ErrorCode.NOT_FOUND

    # An agent may not hand out links; one allowed the asset may watch with one, read-only;
    # one allowed other assets may not (and the link is spent: it was in the wrong hands).
    web = _agent(daemon, "web-watcher", "web-*")
    db = _agent(daemon, "db-watcher", "db-*")
    with daemon.client(token=web["JSCTL_CLIENT_TOKEN"]) as agent:
        with pytest.raises(RpcError) as not_theirs:
            agent.call("session.share", session=session)
        assert not_theirs.value.code == ErrorCode.FORBIDDEN
        stream = agent.stream("session.attach", session=link, read_only=True)
        first = next(iter(stream))
        assert first["session"]["id"] == session
        with pytest.raises(RpcError) as no_typing:
            agent.call("session.write", session=session, data="echo agent\r")
        assert no_typing.value.code in (ErrorCode.FORBIDDEN, ErrorCode.NOT_FOUND)
    with daemon.client() as person:
        foreign = person.call("session.share", session=session)["token"]
    with daemon.client(token=db["JSCTL_CLIENT_TOKEN"]) as agent:
        with pytest.raises(RpcError) as outside:
            next(iter(agent.stream("session.attach", session=foreign, read_only=True)))
        assert outside.value.code == ErrorCode.FORBIDDEN and "allow-list" in outside.value.message
    with daemon.client() as person, pytest.raises(RpcError) as spent:
        next(iter(person.stream("session.attach", session=foreign, read_only=True)))
    assert spent.value.code == ErrorCode.NOT_FOUND

    with daemon.client() as person:
        person.call("session.kill", sessions=[session])
        with pytest.raises(RpcError) as ended:
            person.call("session.share", session=session)
        assert (
            ended.value.code == ErrorCode.BAD_PARAMS and "nothing to watch" in ended.value.message
        )
        records = person.call("audit.query")["records"]
    actions = [(r["action"], r["client"]) for r in records if r.get("session") == session]
    assert ("session.share", "human") in actions and ("session.watch", "web-watcher") in actions
    assert ("session.watch_refused", "db-watcher") in actions
    trail = (daemon.paths.state_dir / "audit" / "audit.jsonl").read_text() + daemon.log_text()
    for token in (link, short, foreign):
        assert token not in trail  # a link is a credential: never logged or audited
