"""The Go-behaviour helpers behind the file APIs' wire texts (pure functions)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jsctl_sandbox._files_elfinder_model import TargetError, entry, hash_path, parse_target
from jsctl_sandbox._files_go import (
    decode_struct,
    go_atoi,
    go_base,
    go_dir,
    go_ext,
    go_join,
    go_json,
    go_mode_string,
)
from jsctl_sandbox._files_paths import FileOpError, FileRoot


def test_filepath_helpers() -> None:
    assert [go_base(p) for p in ("", "/", "//", "/a/b/", "a")] == [".", "/", "/", "b", "a"]
    assert [go_dir(p) for p in ("a", "/a", "/a/b/", "//x/y", "")] == [".", "/", "/a/b", "/x", "."]
    assert go_join("/", "/x//y/../z") == "/x/z" and go_join("", "") == ""
    assert go_join("/", "a") == "/a" and go_join(".", "../b") == "../b"
    assert [go_ext(n) for n in ("a.tar.gz", ".bashrc", "noext", "d.x/y")] == [
        ".gz",
        ".bashrc",
        "",
        "",
    ]


def test_atoi_and_mode_string() -> None:
    assert go_atoi("+12") == 12 and go_atoi("-3") == -3
    for bad in ("", "1_0", " 1", "0x1"):
        with pytest.raises(ValueError, match="invalid syntax"):
            go_atoi(bad)
    with pytest.raises(ValueError, match="value out of range"):
        go_atoi("9" * 20)
    assert go_mode_string(stat.S_IFREG | 0o644) == "-rw-r--r--"
    assert go_mode_string(stat.S_IFDIR | 0o755) == "drwxr-xr-x"
    assert go_mode_string(stat.S_IFDIR | stat.S_ISVTX | 0o777) == "dtrwxrwxrwx"
    assert go_mode_string(stat.S_IFREG | stat.S_ISUID | 0o755) == "urwxr-xr-x"
    assert go_mode_string(stat.S_IFCHR | 0o666) == "Dcrw-rw-rw-"


def test_decode_struct_errors() -> None:
    fields = {"path": str, "size": int, "chunk": bool}
    assert decode_struct('{"Path":"/x","SIZE":3,"other":1}', fields, "req") == {
        "path": "/x",
        "size": 3,
        "chunk": False,
    }
    assert decode_struct('{"path":null}', fields, "req")["path"] == ""
    cases = {
        "": "unexpected end of JSON input",
        "x": "invalid character 'x' looking for beginning of value",
        "[]": "json: cannot unmarshal array into Go value of type httpd.req",
        '{"size":"1"}': "json: cannot unmarshal string into Go struct field req.size of type int64",
        '{"chunk":1}': "json: cannot unmarshal number into Go struct field req.chunk of type bool",
    }
    for text, message in cases.items():
        with pytest.raises(ValueError) as raised:
            decode_struct(text, fields, "req")
        assert str(raised.value) == message


def test_go_json_escapes_like_go() -> None:
    assert go_json({"a": "<&>", "b": "é"}) == '{"a":"\\u003c\\u0026\\u003e","b":"é"}'


def test_elfinder_hashes_and_entries() -> None:
    assert hash_path("v", "/") == "v_Lw"
    assert parse_target(hash_path("v", "/a_b/ü")) == "/a_b/ü"
    assert parse_target("v") == "/" and parse_target("v_") == "/"
    with pytest.raises(TargetError) as raised:
        parse_target("v_ab*c")
    assert raised.value.index == 2 and str(raised.value) == "illegal base64 data at input byte 2"
    assert entry(name="x", size=0, dirs=0, read=1) == {
        "name": "x",
        "read": 1,
        "options": {"archivers": {}},
    }


def test_file_root_semantics(tmp_path: Path) -> None:
    root = FileRoot(tmp_path)
    prefix = root.prefix
    assert root.remote("") == prefix and root.remote("/") == prefix
    assert root.remote("a/b") == f"{prefix}/a/b" and root.remote("//a") == f"{prefix}/a"
    assert root.remote(f"{prefix}/x") == f"{prefix}/x"  # already rooted: used as is
    assert root.local(f"{prefix}/x") == root.root / "x"
    for escape in ("../x", f"{prefix}/../x", "/../../etc/passwd"[1:]):
        with pytest.raises(FileOpError, match="permission denied"):
            root.local(root.remote(escape))
