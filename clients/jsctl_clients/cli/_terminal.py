"""The interactive terminal: raw TTY, window-size changes, and the detach key.

Two daemon connections: one carries the attach stream (read by a thread that writes to the
screen), the other carries keystrokes and resizes from this thread.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import sys
import termios
import threading
import tty
from collections.abc import Iterator
from typing import Any

from jsctl_protocol import RpcError

from ..rpc import DaemonClient, DaemonUnreachable

DETACH_PREFIX = b"\x1d"  # Ctrl-]
DETACH_KEY = b"d"
HELP = "detach: Ctrl-] d   (Ctrl-] Ctrl-] sends Ctrl-])"


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Put the terminal in raw mode, restoring it whatever happens."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class _Outcome:
    def __init__(self) -> None:
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()


def _pump_output(
    client: DaemonClient, session: str, read_only: bool, outcome: _Outcome, wake_fd: int
) -> None:
    out = sys.stdout.buffer
    try:
        stream = client.stream("session.attach", session=session, read_only=read_only)
        for item in stream:
            data = item.get("data")
            if item.get("notice"):  # e.g. KoKo's idle cut-off is near
                sys.stderr.write(f"\r\n[jsctl: {item['notice']}]\r\n")
                sys.stderr.flush()
            if item.get("missed"):
                out.write(
                    f"\r\n[jsctl: {item['missed']} bytes of older output are no longer "
                    "buffered]\r\n".encode()
                )
            if data:
                out.write(data)
                out.flush()
        outcome.result = stream.result
    except (RpcError, DaemonUnreachable, OSError) as exc:
        outcome.error = exc
    finally:
        outcome.done.set()
        with contextlib.suppress(OSError):
            os.write(wake_fd, b"x")


def interactive(paths: Any, session: str, read_only: bool) -> tuple[str, dict[str, Any] | None]:
    """Attach this terminal to ``session``; returns ("detached"|"ended", final state)."""
    if not sys.stdin.isatty():
        raise RpcError(
            "bad_params",
            "an interactive attach needs a terminal on stdin; use "
            "`jsctl logs --follow` or `jsctl exec` from scripts",
        )
    # As the rest of the CLI: an agent's token ($JSCTL_CLIENT_TOKEN) makes it that client, with
    # its allow-list; without it an agent's `jsctl attach` acted as the person.
    token = os.environ.get("JSCTL_CLIENT_TOKEN") or None
    reader = DaemonClient.connect(paths, autostart=False, token=token)
    writer = DaemonClient.connect(paths, autostart=False, token=token)
    wake_read, wake_write = os.pipe()
    outcome = _Outcome()

    def send_size(*_: object) -> None:
        if read_only:
            return
        size = shutil.get_terminal_size()
        with contextlib.suppress(RpcError, DaemonUnreachable):
            writer.call("session.resize", session=session, cols=size.columns, rows=size.lines)

    previous = signal.signal(signal.SIGWINCH, send_size)
    thread = threading.Thread(
        target=_pump_output, args=(reader, session, read_only, outcome, wake_write), daemon=True
    )
    stdin_fd = sys.stdin.fileno()
    how = "ended"
    try:
        send_size()
        with raw_terminal(stdin_fd):
            thread.start()
            how = _input_loop(writer, session, read_only, stdin_fd, wake_read, outcome)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        reader.close()
        writer.close()
        os.close(wake_read)
        os.close(wake_write)
    if outcome.error is not None and how != "detached":
        raise outcome.error
    return how, outcome.result


def _input_loop(
    writer: DaemonClient,
    session: str,
    read_only: bool,
    stdin_fd: int,
    wake_fd: int,
    outcome: _Outcome,
) -> str:
    prefix_seen = False
    while not outcome.done.is_set():
        try:
            ready, _, _ = select.select([stdin_fd, wake_fd], [], [])
        except InterruptedError:
            continue
        if stdin_fd not in ready:
            continue
        data = os.read(stdin_fd, 4096)
        if not data:
            return "detached"
        if prefix_seen:
            prefix_seen = False
            if data[:1] == DETACH_KEY:
                return "detached"
            if data[:1] != DETACH_PREFIX:
                data = DETACH_PREFIX + data
        elif data.endswith(DETACH_PREFIX):
            prefix_seen = True
            data = data[:-1]
        elif DETACH_PREFIX + DETACH_KEY in data:
            return "detached"
        if data and not read_only:
            try:
                writer.call("session.write", session=session, data=data)
            except RpcError:
                return "ended"
    return "ended"
