"""The screen view of full-screen output and resizes, and the optional asciicast recording."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
import trio
from sessions_support import exec_run

from jsctl_daemon.sessions import OpenRequest, SessionBusy, SessionManager, SessionState

ManagerFactory = Callable[..., AbstractAsyncContextManager[SessionManager]]
MakeRequest = Callable[..., OpenRequest]


async def _screen_until(
    manager: SessionManager, sid: str, check: Callable[[list[str]], bool]
) -> list[str]:
    with trio.fail_after(20):
        while True:
            offset = manager.get(sid).end_offset
            lines = list((await manager.screen(sid)).lines)
            if check(lines):
                return lines
            await manager.wait_for_output(sid, offset, 5)


async def test_cursor_moves(manager: SessionManager, make_request: MakeRequest) -> None:
    sid = (await manager.open(make_request(cols=40, rows=10))).id
    await exec_run(
        manager,
        sid,
        r"clear; printf '\033[5;10Hhello\033[1;1Htop\033[10;1H'; sleep 0.2",
        owner="cli",
    )
    lines = await _screen_until(manager, sid, lambda ls: ls[4][9:14] == "hello")
    assert lines[0].startswith("top")
    snapshot = await manager.screen(sid)
    assert (snapshot.cols, snapshot.rows) == (40, 10)
    assert len(snapshot.lines) == 10 and all(len(line) == 40 for line in snapshot.lines)
    assert "7391" not in "".join(snapshot.lines)  # exec markers are invisible


@pytest.mark.skipif(shutil.which("vi") is None, reason="vi not installed")
async def test_full_screen_program_and_resize(
    manager: SessionManager, make_request: MakeRequest, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("first line\nsecond line\n")
    sid = (await manager.open(make_request(cols=60, rows=12))).id
    await manager.write_input(sid, b"vi -u NONE -N notes.txt\r")
    lines = await _screen_until(manager, sid, lambda ls: ls[1].startswith("second line"))
    assert lines[0].startswith("first line")
    assert lines[2].startswith("~")

    await manager.resize(sid, 80, 20)
    await manager.write_input(sid, b"\x0c")  # Ctrl-L: redraw at the new size
    lines = await _screen_until(manager, sid, lambda ls: len(ls) == 20 and ls[18].startswith("~"))
    assert all(len(line) == 80 for line in lines)
    assert lines[0].startswith("first line")

    with pytest.raises(SessionBusy, match="full-screen program"):  # never typed into vi
        await exec_run(manager, sid, "stty size </dev/tty", owner="cli", time_limit_s=20)
    await manager.write_input(sid, b"\x1b:q!\r")
    # Until the shell's prompt is back, exec is refused rather than typed into vi.
    for _ in range(100):
        try:
            result = await exec_run(
                manager, sid, "stty size </dev/tty", owner="cli", time_limit_s=20
            )
            break
        except SessionBusy:
            await trio.sleep(0.05)
    assert result.output.data == b"20 80\r\n"


async def test_screen_after_the_buffer_wrapped(
    manager_factory: ManagerFactory, make_request: MakeRequest
) -> None:
    async with manager_factory(buffer_bytes=8192) as manager:
        sid = (await manager.open(make_request(cols=30, rows=5))).id
        await manager.screen(sid)  # the screen starts early, then falls behind
        await exec_run(manager, sid, "seq 1 5000", owner="cli")
        lines = await _screen_until(manager, sid, lambda ls: any("5000" in ln for ln in ls))
        assert any(line.startswith("4999") for line in lines)


async def test_recording(
    manager: SessionManager, make_request: MakeRequest, tmp_path: Path
) -> None:
    cast = tmp_path / "session.cast"
    sid = (await manager.open(make_request(record_path=cast, cols=70, rows=15))).id
    assert manager.get(sid).recording == str(cast)
    await exec_run(manager, sid, "echo recorded-ü", owner="cli")
    await manager.resize(sid, 90, 30)
    await manager.kill(sid)
    assert manager.get(sid).state is SessionState.CLOSED
    header, *events = (json.loads(line) for line in cast.read_text().splitlines())
    assert header["version"] == 2 and (header["width"], header["height"]) == (70, 15)
    text = "".join(e[2] for e in events if e[1] == "o")
    assert "recorded-ü\r\n" in text
    assert [e[2] for e in events if e[1] == "r"] == ["90x30"]
    assert all(e[0] >= 0 for e in events)
    assert cast.stat().st_mode & 0o777 == 0o600
