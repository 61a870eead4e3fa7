"""Derived views (the CLI's command index, completion's spec) are kept until a source changes,
and the hot path reads the kept copy instead of building the method table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jsctl_clients import _views


class Builder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return {"built": self.calls, "rows": ("a", ("b", 1, True))}


def test_a_view_is_built_once_and_rebuilt_when_a_source_changes(tmp_path: Path) -> None:
    sources_dir = tmp_path / "src"
    sources_dir.mkdir()
    table = sources_dir / "_table.py"
    table.write_text("ROWS = 1\n")
    (sources_dir / "notes.txt").write_text("not a source")
    sources, caches = (str(sources_dir),), (str(tmp_path / "kept"),)
    build = Builder()
    first = _views.load("v", build, sources, caches)
    assert first == {"built": 1, "rows": ("a", ("b", 1, True))}
    assert _views.load("v", build, sources, caches) == first and build.calls == 1
    (sources_dir / "notes.txt").write_text("still not a source, and longer")
    assert _views.load("v", build, sources, caches) == first and build.calls == 1
    table.write_text("ROWS = 2  # edited\n")
    assert _views.load("v", build, sources, caches)["built"] == 2  # type: ignore[index]
    (sources_dir / "_new.py").write_text("")
    assert _views.load("v", build, sources, caches)["built"] == 3  # type: ignore[index]
    (sources_dir / "_new.py").unlink()
    assert _views.load("v", build, sources, caches)["built"] == 4  # type: ignore[index]
    assert not [p for p in Path(caches[0]).iterdir() if p.name.endswith(".tmp")]


def test_a_garbled_or_unwritable_keep_is_rebuilt_without_an_error(tmp_path: Path) -> None:
    source = tmp_path / "table.py"
    source.write_text("")
    blocked = tmp_path / "a-file"
    blocked.write_text("a directory cannot be made here")
    fallback = tmp_path / "fallback"
    caches, build = (str(blocked / "kept"), str(fallback)), Builder()
    _views.load("v", build, (str(source),), caches)
    (kept,) = fallback.iterdir()  # the first place failed: kept in the second
    assert _views.load("v", build, (str(source),), caches) and build.calls == 1
    for garbage in (b"", b"\x00garbage", kept.read_bytes()[:-3]):
        kept.write_bytes(garbage)
        _views.load("v", build, (str(source),), caches)
    assert build.calls == 4


def test_the_hot_path_reads_the_kept_index_without_building_the_table() -> None:
    probe = (
        "import sys\n"
        "from jsctl_clients.cli._app import commands\n"
        "index = commands()\n"
        "assert 'ping' in index and 'paths' in index, index\n"
        "print(sorted(m for m in sys.modules if m.startswith('jsctl_protocol._methods')))\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)  # keeps it, if it was stale
    again = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True)
    assert again.stdout.decode().strip() == "[]"


def test_views_are_kept_only_in_absolute_places(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # never a directory under the cwd
    assert [os.path.isabs(place) for place in _views.cache_dirs()] == [True]
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere/cache")
    assert list(_views.cache_dirs())[1] == "/somewhere/cache/jsctl"
