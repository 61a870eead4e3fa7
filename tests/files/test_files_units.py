"""Pure pieces of the file layer: remote path rules, REF:PATH parsing, progress rendering."""

from __future__ import annotations

import io

import pytest

from jsctl_clients.cli._progress import ProgressView, human_bytes
from jsctl_clients.cli.file_cmds import split_remote
from jsctl_daemon.files import UnsafeOperation
from jsctl_daemon.files._errors import (
    FileExists,
    FileNotFound,
    FilePermissionDenied,
    remote_error,
)
from jsctl_daemon.files._paths import (
    basename,
    is_root,
    join,
    normalize,
    parent,
    relative_to,
    under_root,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("", "/"),
        (".", "/"),
        ("/", "/"),
        ("a/b", "/a/b"),
        ("/a//b/", "/a/b"),
        ("a/./b/../c", "/a/c"),
        ("ünï/cödé ✓.txt", "/ünï/cödé ✓.txt"),
    ],
)
def test_normalize_roots_paths_at_the_file_root(given: str, expected: str) -> None:
    assert normalize(given) == expected


@pytest.mark.parametrize("escaping", ["..", "/..", "a/../../b", "../../etc/passwd"])
def test_paths_may_not_climb_above_the_root(escaping: str) -> None:
    with pytest.raises(UnsafeOperation):
        normalize(escaping)


def test_path_helpers() -> None:
    assert is_root("/") and is_root("a/..") and not is_root("/a")
    assert join("/a", "b", "c") == "/a/b/c"
    assert parent("/a/b") == "/a" and parent("/a") == "/" and parent("/") == "/"
    assert basename("/a/b.txt") == "b.txt" and basename("/") == ""
    assert relative_to("/b/y", "/a") == "../b/y"
    assert relative_to("/a/y", "/a") == "y"


def test_real_paths_join_under_the_server_root() -> None:
    assert under_root("/tmp", "/") == "/tmp"
    assert under_root("/tmp", "/a/b") == "/tmp/a/b"
    assert under_root("/tmp/", "a") == "/tmp/a"
    assert under_root("", "/a") == "/a"  # server did not name its root: it joins itself
    assert under_root("/", "/a") == "/a"


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("web-03:/var/log", ("web-03", "/var/log")),
        ("web-03:", ("web-03", "/")),
        ("web-03:rel/path", ("web-03", "rel/path")),
        ("./local:file", None),
        ("/abs/path", None),
        ("plain", None),
        (":nohost", None),
    ],
)
def test_split_remote(arg: str, expected: tuple[str, str] | None) -> None:
    assert split_remote(arg) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("file does not exist", FileNotFound),
        ("sftp: no such file", FileNotFound),
        ("Permission denied", FilePermissionDenied),
        ("errAccess", FilePermissionDenied),
        ("file already exists", FileExists),
    ],
)
def test_server_error_texts_map_to_kinds(text: str, kind: type[Exception]) -> None:
    assert isinstance(remote_error("upload", "/x", text), kind)


def test_progress_plain_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    view = ProgressView("uploaded", out, tty=False)
    view.feed({"event": "progress", "bytes": 10, "total_bytes": 100, "file": "/a"})
    view.feed({"event": "file", "file": "/a", "bytes": 100, "total_bytes": 100})
    view.finish({"files": [{}], "bytes": 100, "seconds": 2.0})
    lines = out.getvalue().splitlines()
    assert lines[0] == "uploaded /a"
    assert lines[1].startswith("uploaded 1 file, 100 B in 2.0 s")
    assert "\r" not in out.getvalue()


def test_progress_bar_with_rate_and_eta_on_a_terminal() -> None:
    out = io.StringIO()
    view = ProgressView("downloaded", out, tty=True)
    view.feed({"event": "progress", "bytes": 512, "total_bytes": 1024, "file": "/big"})
    text = out.getvalue()
    assert text.startswith("\r[") and " 50.0% " in text and "/s ETA " in text and "/big" in text


def test_human_bytes() -> None:
    assert human_bytes(0) == "0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(5 * 1024**3) == "5.0 GiB"
