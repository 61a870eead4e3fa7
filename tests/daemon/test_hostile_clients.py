"""Real front ends killed mid-stream: the daemon lives and nothing inside the buffer is lost."""

from __future__ import annotations

import itertools
import os
import pty
import re
import signal
import subprocess
import time

from hostile import assert_alive
from jsctl_fixtures import LoggedIn
from jsctl_testing import JSCTL

LINE = re.compile(rb"n(\d{7})\r?\n")
KINDS = (("attach", "--read-only"), ("logs", "--follow"), ("attach",))


def test_kill_9_of_attach_and_logs_follow_mid_stream(logged_in: LoggedIn) -> None:
    daemon = logged_in.daemon
    assert daemon.process is not None
    pid = daemon.process.pid
    with daemon.client() as client:
        session = client.call("session.open", asset="web-01", name="numbers")["session"]
        origin = session["end_offset"]
        client.call(
            "session.write",
            session=session["id"],
            data="i=0; while :; do i=$((i+1)); printf 'n%07d\\n' $i; sleep 0.002; done\r",
        )
        for kind in itertools.islice(itertools.cycle(KINDS), 12):
            terminal, its_end = pty.openpty()  # attach wants a terminal on stdin
            process = subprocess.Popen(
                [*JSCTL, *kind, session["id"]],
                env=daemon.env,
                stdin=its_end,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            os.close(its_end)
            assert process.stdout is not None
            assert process.stdout.read(64), "no output was flowing"
            process.send_signal(signal.SIGKILL)
            process.wait()
            process.stdout.close()
            os.close(terminal)
        time.sleep(0.3)
        client.call("session.write", session=session["id"], data="\x03")
        time.sleep(0.3)
        page = client.call("session.read", session=session["id"], offset=origin, max_bytes=16 << 20)
    numbers = [int(n) for n in LINE.findall(page["data"])]
    assert page["missed"] == 0 and len(numbers) > 50
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), "a line went missing"
    assert_alive(daemon, pid)
