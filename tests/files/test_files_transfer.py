"""Round trips through the real CLI, daemon and sandbox over /koko/ws/sftp/ and elFinder."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from files_support import Remote
from jsctl_fixtures import LoggedIn


def run(login: LoggedIn, *args: str) -> subprocess.CompletedProcess[str]:
    """`jsctl ARGS` against the test daemon."""
    return login.daemon.cli(*args, timeout=120)


def ok(login: LoggedIn, *args: str) -> Any:
    """`jsctl --json ARGS`, which must succeed; its JSON answer."""
    result = run(login, "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def refused(login: LoggedIn, *args: str) -> str:
    """`jsctl ARGS`, which must fail; its error text."""
    result = run(login, *args)
    assert result.returncode != 0, result.stdout
    return result.stderr


PAYLOADS = {
    "empty.bin": b"",
    "small.txt": b"hello over 443\n",
    "binary.bin": bytes(range(256)) * 64 + b"\x00\xff\r\n",
    "chunky.bin": os.urandom(9 * 1024 * 1024 + 7),  # several upload and download chunks
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_round_trip(files_login: LoggedIn, remote: Remote, tmp_path: Path, name: str) -> None:
    data = PAYLOADS[name]
    source = tmp_path / name
    source.write_bytes(data)
    uploaded = ok(files_login, "cp", str(source), remote.ref(name))
    assert (remote.local / name).read_bytes() == data
    assert uploaded["bytes"] == len(data)
    assert not [p for p in remote.local.iterdir() if ".jsctl-" in p.name]  # no temp left
    back = tmp_path / f"back-{name}"
    downloaded = ok(files_login, "cp", remote.ref(name), str(back))
    assert back.read_bytes() == data
    assert downloaded["files"][0]["sha256"] == uploaded["files"][0]["sha256"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_unicode_names_and_listing(files_login: LoggedIn, remote: Remote, tmp_path: Path) -> None:
    name = "Grüße ✓ 日本.txt"
    (tmp_path / name).write_text("ünïcödé\n")
    ok(files_login, "cp", str(tmp_path / name), remote.ref() + "/")
    assert (remote.local / name).read_text() == "ünïcödé\n"
    listing = ok(files_login, "ls", remote.ref())
    assert [e["name"] for e in listing["entries"]] == [name]
    assert listing["entries"][0]["size"] == len("ünïcödé\n".encode())
    human = run(files_login, "ls", "-l", remote.ref())
    assert name in human.stdout and "file root" in human.stdout
    stat = ok(files_login, "stat", remote.ref(name))["entry"]
    assert stat["type"] == "file" and stat["path"] == f"{remote.path}/{name}"
    ok(files_login, "cp", remote.ref(name), str(tmp_path / "copy.txt"))
    assert (tmp_path / "copy.txt").read_text() == "ünïcödé\n"


def _tree(root: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


def test_directories_recursively(files_login: LoggedIn, remote: Remote, tmp_path: Path) -> None:
    tree = tmp_path / "project"
    (tree / "src" / "deep").mkdir(parents=True)
    (tree / "empty").mkdir()
    (tree / "README").write_text("read me\n")
    (tree / "src" / "main.py").write_text("print('hi')\n")
    (tree / "src" / "deep" / "data.bin").write_bytes(os.urandom(3000))
    assert "use -r" in refused(files_login, "cp", str(tree), remote.ref())
    result = ok(files_login, "cp", "-r", str(tree), remote.ref())
    assert len(result["files"]) == 3
    assert _tree(remote.local / "project") == _tree(tree)
    back = tmp_path / "back"
    back.mkdir()
    ok(files_login, "cp", "-r", remote.ref("project"), str(back))
    assert _tree(back / "project") == _tree(tree)


def test_overwrite_needs_force(files_login: LoggedIn, remote: Remote, tmp_path: Path) -> None:
    (remote.local / "conf").write_text("old\n")
    new = tmp_path / "conf"
    new.write_text("new\n")
    assert "--force" in refused(files_login, "cp", str(new), remote.ref("conf"))
    assert (remote.local / "conf").read_text() == "old\n"
    ok(files_login, "cp", "--force", str(new), remote.ref("conf"))
    assert (remote.local / "conf").read_text() == "new\n"
    assert sorted(p.name for p in remote.local.iterdir()) == ["conf"]
    local = tmp_path / "here"
    local.write_text("mine\n")
    assert "--force" in refused(files_login, "cp", remote.ref("conf"), str(local))
    assert local.read_text() == "mine\n"
    ok(files_login, "cp", "-f", remote.ref("conf"), str(local))
    assert local.read_text() == "new\n"


def test_remove_gates(files_login: LoggedIn, remote: Remote) -> None:
    (remote.local / "dir" / "sub").mkdir(parents=True)
    (remote.local / "dir" / "sub" / "f").write_text("x")
    (remote.local / "file").write_text("x")
    assert "use -r" in refused(files_login, "rm", remote.ref("dir"))
    assert "file root" in refused(files_login, "rm", "-r", f"{remote.asset}:/")
    assert "file root" in refused(files_login, "rm", "-r", f"{remote.asset}:{remote.path}/..")
    assert "above the file root" in refused(files_login, "rm", "-r", f"{remote.asset}:/../..")
    assert "does not exist" in refused(files_login, "rm", remote.ref("nope"))
    ok(files_login, "rm", remote.ref("file"))
    ok(files_login, "rm", "-r", remote.ref("dir"))
    assert list(remote.local.iterdir()) == []


def test_mkdir_and_move(files_login: LoggedIn, remote: Remote, tmp_path: Path) -> None:
    assert "does not exist" in refused(files_login, "ls", remote.ref("missing", "deeper"))
    assert "use -p" in refused(files_login, "mkdir", remote.ref("a", "b"))
    ok(files_login, "mkdir", "-p", remote.ref("a", "b"))
    ok(files_login, "mkdir", "-p", remote.ref("a", "b"))  # idempotent with -p
    assert "exists" in refused(files_login, "mkdir", remote.ref("a"))
    (remote.local / "x.txt").write_text("x\n")
    ok(files_login, "mv", remote.ref("x.txt"), remote.ref("a", "b") + "/")  # into a directory
    assert (remote.local / "a" / "b" / "x.txt").read_text() == "x\n"
    ok(files_login, "mv", remote.ref("a", "b", "x.txt"), remote.ref("y.txt"))  # across dirs
    assert (remote.local / "y.txt").exists() and not (remote.local / "a" / "b" / "x.txt").exists()
    local = tmp_path / "up.txt"
    local.write_text("up\n")
    ok(files_login, "mv", str(local), remote.ref("up.txt"))
    assert not local.exists() and (remote.local / "up.txt").read_text() == "up\n"


def test_local_permission_error(files_login: LoggedIn, remote: Remote, tmp_path: Path) -> None:
    (remote.local / "f").write_text("x")
    if os.geteuid() == 0:
        target = Path("/sys/jsctl-test-target")  # root ignores mode bits, not sysfs
        error = refused(files_login, "cp", remote.ref("f"), str(target))
        assert "permission denied" in error and not target.exists()
        return
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        error = refused(files_login, "cp", remote.ref("f"), str(locked / "f"))
    finally:
        locked.chmod(0o700)
    assert "permission denied" in error and not list(locked.iterdir())


def test_sessions_are_reused_and_audited(files_login: LoggedIn, remote: Remote) -> None:
    ok(files_login, "ls", remote.ref())
    ok(files_login, "ls", remote.ref())
    sessions = ok(files_login, "files", "sessions")["sessions"]
    mine = [s for s in sessions if s["asset"] == remote.asset]
    assert len(mine) == 1 and mine[0]["api"] == files_login.daemon.env["JSCTL_FILES_API"]
    with files_login.daemon.client() as client:
        records = client.call("audit.query", asset=remote.asset)["records"]
    listed = [r for r in records if r["action"] == "files.list" and r.get("path") == remote.path]
    assert len(listed) >= 2 and listed[-1]["outcome"] == "ok"
