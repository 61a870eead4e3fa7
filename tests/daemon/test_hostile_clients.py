"""Real front ends killed mid-stream: the daemon lives and nothing inside the buffer is lost."""

from __future__ import annotations

import itertools
import time

from hostile import assert_alive, numbered_lines, start_numbered_lines
from jsctl_fixtures import LoggedIn
from jsctl_testing import kill_mid_stream

KINDS = (("attach", "--read-only"), ("logs", "--follow"), ("attach",))


def test_kill_9_of_attach_and_logs_follow_mid_stream(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    assert daemon.process is not None
    pid = daemon.process.pid
    with daemon.client() as client:
        session, origin = start_numbered_lines(client)
        for kind in itertools.islice(itertools.cycle(KINDS), 12):
            printed = kill_mid_stream(daemon.env, *kind, session)
            assert printed, "no output was flowing"
        time.sleep(0.3)
        client.call("session.write", session=session, data="\x03")
        time.sleep(0.3)
        page = client.call("session.read", session=session, offset=origin, max_bytes=16 << 20)
    numbers = numbered_lines(page["data"])
    assert page["missed"] == 0 and len(numbers) > 50
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "a line went missing"
    assert_alive(daemon, pid)
