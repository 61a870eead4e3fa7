"""elFinder over KoKo (sheet 8.1): socket + HTTP connector against the real sandbox."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio
from test_files_support import (
    ElfinderClient,
    FileUser,
    file_root,
    open_elfinder,
    open_koko,
    vhash,
)
from trio_websocket import ConnectionRejected

from jsctl_sandbox.testing import SandboxInfo

VID = hashlib.md5(b"admin@127.0.0.1").hexdigest()
ARCHIVERS: dict[str, Any] = {"archivers": {}}


@pytest.fixture
async def elf(sandbox: SandboxInfo, admin: FileUser) -> AsyncIterator[ElfinderClient]:
    async with open_elfinder(sandbox, admin) as client:
        yield client


def h(path: str) -> str:
    hashed: str = vhash(VID, path)
    return hashed


def names(entries: list[dict[str, Any]]) -> set[str]:
    return {e["name"] for e in entries}


async def test_open_init_shapes(elf: ElfinderClient, workdir: Path) -> None:
    body = await elf.json("open", init="1", target="")
    assert list(body) == ["api", "cwd", "files", "options", "uplMaxSize", "tree", "added"]
    assert body["api"] == 2.105 and body["uplMaxSize"] == "10M"
    assert body["options"] == {"separator": "/", "archivers": {}, "copyOverwrite": 1}
    assert body["tree"] is None and body["added"] is None
    cwd = body["cwd"]
    assert cwd["name"] == "Home" and cwd["hash"] == f"{VID}_Lw" and cwd["locked"] == 1
    assert cwd["volumeid"] == VID and cwd["mime"] == "directory" and "phash" not in cwd
    assert cwd["options"] == ARCHIVERS
    assert body["files"][-1] == cwd  # the cwd is repeated in files
    mine = next(f for f in body["files"] if f["name"] == workdir.name)
    assert mine["hash"] == h(f"/{workdir.name}") and mine["phash"] == cwd["hash"]
    assert mine["dirs"] == 1 and mine["read"] == 1 and mine["options"] == ARCHIVERS


async def test_open_subdirectory_and_tree(elf: ElfinderClient, workdir: Path) -> None:
    (workdir / "empty.txt").write_bytes(b"")
    (workdir / ".dot").write_bytes(b"x")
    body = await elf.json("open", target=h(f"/{workdir.name}"))
    assert "api" not in body and body["options"] == ARCHIVERS
    assert body["cwd"]["name"] == workdir.name and body["cwd"]["phash"] == f"{VID}_Lw"
    empty = next(f for f in body["files"] if f["name"] == "empty.txt")
    assert "size" not in empty and "dirs" not in empty and empty["mime"] == "file"
    assert names(body["files"]) == {"empty.txt", workdir.name}  # dot-files hidden

    body = await elf.json("open", target=h(f"/{workdir.name}"), tree="1")
    assert body["tree"] == []
    assert "Home" in names(body["files"])  # roots and parents are appended

    body = await elf.json("open", target=h(f"/{workdir.name}/missing"))
    assert body["error"] == ["errAccess", "file does not exist"]
    assert body["cwd"] == {"options": ARCHIVERS} and body["files"] is None


async def test_mkdir_ls_tree_parents_mkfile(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    body = await elf.json("mkdir", target=h(base), name="sub")
    assert [a["name"] for a in body["added"]] == ["sub"] and (workdir / "sub").is_dir()
    assert body["added"][0]["hash"] == h(f"{base}/sub")
    body = await elf.json("mkdir", target=h(base), **{"dirs[]": ["a/b", "c"]})
    assert body["hashes"] == {"a/b": "a/b", "c": "c"} and (workdir / "a" / "b").is_dir()

    body = await elf.json("mkfile", target=h(base), name="new.txt")
    assert body["added"][0]["name"] == "new.txt" and (workdir / "new.txt").read_bytes() == b""

    body = await elf.json("ls", target=h(base))
    assert sorted(body["list"]) == sorted(
        f'"{h(f"{base}/{n}")}";"{n}"' for n in ("a", "c", "new.txt", "sub")
    )
    body = await elf.json("ls", target=h(base), **{"intersect[]": ["c", "zzz"]})
    assert body["list"] == [f'"{h(f"{base}/c")}";"c"']
    body = await elf.json("ls", target=h(f"{base}/c"))
    assert "list" not in body  # Go omits an empty list

    body = await elf.json("tree", target=h(base))
    assert names(body["tree"]) == {"a", "c", "sub"}
    body = await elf.json("parents", target=h(f"{base}/a"))
    assert {"b", "a", workdir.name} <= names(body["tree"])


async def test_rename_and_recursive_rm(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    (workdir / "d" / "e").mkdir(parents=True)
    (workdir / "d" / "e" / "f.txt").write_text("f")
    (workdir / "g.txt").write_text("g")
    body = await elf.json("rename", target=h(f"{base}/g.txt"), name="h.txt")
    assert body["removed"] == [h(f"{base}/g.txt")] and body["added"][0]["name"] == "h.txt"
    body = await elf.json("rename", target=h(f"{base}/nope"), name="x")
    assert body["error"] == ["errRename", "x"]

    targets = [h(f"{base}/d"), h(f"{base}/h.txt"), h(f"{base}/missing")]
    body = await elf.json("rm", **{"targets[]": targets})
    assert body["removed"] == targets[:2]
    assert body["error"] == ["errRm", "file does not exist"]
    assert os.listdir(workdir) == []
    body = await elf.json("rm", **{"targets[]": [f"{VID}_Lw"]})
    assert body["error"] == ["errRm", "permission denied"]  # the root stays


async def test_upload_and_file_download(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    content = os.urandom(300_000)
    files = [("upload[]", ("one.bin", content)), ("upload[]", ("two.txt", b"two"))]
    body = await elf.post({"cmd": "upload", "target": h(base)}, files)
    assert names(body["added"]) == {"one.bin", "two.txt"} and "warning" not in body
    assert (workdir / "one.bin").read_bytes() == content

    response = await elf.call("file", target=h(f"{base}/one.bin"), download="1")
    assert response.status_code == 200 and response.content == content
    assert response.headers["content-disposition"] == 'attachment; filename="one.bin"'
    response = await elf.call("file", target=h(f"{base}/two.txt"))
    assert response.headers["content-disposition"] == 'inline; filename=="two.txt"'

    response = await elf.call("file", target=h(f"{base}/missing"), download="1")
    assert response.status_code == 403 and response.text == "file does not exist"
    assert response.headers["content-type"].startswith("text/plain")

    files = [("upload[]", ("x", b"x"))]
    body = await elf.post({"cmd": "upload", "target": h(f"{base}/nodir")}, files)
    assert body["added"] == [] and body["warning"] == ["errUploadFile", "file does not exist"]


async def test_chunked_upload_and_merge(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    content = os.urandom(250_000)
    halves = (content[:100_000], content[100_000:])
    offset = 0
    for index, piece in enumerate(halves):
        data = {
            "cmd": "upload",
            "target": h(base),
            "cid": "77",
            "chunk": f"big.bin.{index}_1.part",
            "range": f"{offset},{len(piece)},{len(content)}",
        }
        body = await elf.post(data, [("upload[]", ("blob", piece))])
        assert body["added"] == []
        offset += len(piece)
    assert body["_chunkmerged"] == "77_1_big.bin" and body["_name"] == "big.bin"
    assert not (workdir / "big.bin").exists()  # staged until the merge

    body = await elf.post({"cmd": "upload", "target": h(base), "chunk": "77_1_big.bin"})
    assert body["added"][0]["name"] == "big.bin" and body["added"][0]["size"] == len(content)
    assert (workdir / "big.bin").read_bytes() == content


async def test_paste_duplicate_size(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    (workdir / "src" / "in").mkdir(parents=True)
    (workdir / "src" / "in" / "a.txt").write_text("aaa")
    (workdir / "f.txt").write_text("ff")
    (workdir / "dst").mkdir()

    targets = {"targets[]": [h(f"{base}/src"), h(f"{base}/f.txt")]}
    body = await elf.json("paste", dst=h(f"{base}/dst"), suffix="~", **targets)
    assert names(body["added"]) == {"src", "in", "a.txt", "f.txt"} and "removed" not in body
    assert (workdir / "dst" / "src" / "in" / "a.txt").read_text() == "aaa"
    body = await elf.json("paste", dst=h(f"{base}/dst"), suffix="~", cut="1", **targets)
    assert body["removed"] == targets["targets[]"]
    assert sorted(os.listdir(workdir / "dst")) == ["f.txt", "f.txt~", "src", "src~"]

    body = await elf.json("paste", dst=h(f"{base}/dst/src"), **{"targets[]": h(f"{base}/dst")})
    assert body["error"] == ["error", "errCopyInItself"]

    body = await elf.json("duplicate", **{"targets[]": h(f"{base}/dst/f.txt")})
    (dup,) = body["added"]
    assert dup["name"].startswith("f_duplicate_") and dup["name"].endswith(".txt")

    body = await elf.json("size", **{"targets[]": h(f"{base}/dst/f.txt")})
    assert body["size"] == 2


async def test_misc_commands(elf: ElfinderClient) -> None:
    body = await elf.json("search", q="x", target=f"{VID}_Lw")
    assert body["files"] == [] and body["error"] == {}
    response = await elf.call("abort")
    assert response.status_code == 204
    body = await elf.json("fly")
    assert body == {
        "cwd": {"options": ARCHIVERS},
        "files": None,
        "options": ARCHIVERS,
        "tree": None,
        "added": None,
        "error": "errUnknownCmd",
    }


async def test_connector_errors(sandbox: SandboxInfo, admin: FileUser, elf: ElfinderClient) -> None:
    client = admin.client
    connector = elf.connector
    response = await trio.to_thread.run_sync(lambda: client.get(connector, params={"cmd": "open"}))
    assert response.status_code == 400 and response.text == "ws already disconnected"
    params = {"cmd": "open", "sid": str(uuid.uuid4())}
    response = await trio.to_thread.run_sync(lambda: client.get(connector, params=params))
    assert response.status_code == 400 and response.text == "ws already disconnected"
    headers = {"content-type": "multipart/form-data"}  # no boundary
    response = await trio.to_thread.run_sync(
        lambda: client.post(connector, content=b"--zzz\r\nbroken", headers=headers)
    )
    assert response.status_code == 400 and response.text == "invalid elfinder request"

    anonymous = FileUser.__new__(FileUser)
    anonymous.client = type(client)(base_url=sandbox.url, verify=sandbox.verify)
    try:
        params = {"cmd": "open", "sid": elf.connect_id}
        response = await trio.to_thread.run_sync(
            lambda: anonymous.client.get(connector, params=params)
        )
        assert response.status_code == 302
        assert response.headers["location"].startswith(
            "/core/auth/login/?next=%2Fkoko%2Felfinder%2Fconnector%2Fx%2F%3F"
        )
    finally:
        anonymous.client.close()


async def test_socket_close_ends_the_volume(sandbox: SandboxInfo, admin: FileUser) -> None:
    async with open_elfinder(sandbox, admin) as elf:
        await elf.ws.send_message(json.dumps({"id": elf.connect_id, "type": "PING", "data": ""}))
        await elf.ws.send_message(json.dumps({"id": "", "type": "TERMINAL_DATA", "data": "x"}))
        await elf.assert_silent()  # the elFinder socket ignores client messages
        assert (await elf.json("open", target=""))["cwd"]["name"] == "Home"
    for _ in range(200):  # the server notices the close asynchronously
        response = await elf.call("open", target="")
        if response.status_code != 200:
            break
        await trio.sleep(0.05)
    assert response.status_code == 400 and response.text == "ws already disconnected"


async def test_socket_login_redirect(sandbox: SandboxInfo, admin: FileUser) -> None:
    token = await trio.to_thread.run_sync(admin.token)
    with pytest.raises(ConnectionRejected) as rejected:
        query = f"type=elfinder&target_id=_&token={token}"
        async with open_koko(sandbox, "/koko/ws/elfinder/", cookie="", query=query):
            pass
    assert rejected.value.status_code == 302


async def test_paths_are_confined(elf: ElfinderClient, sandbox: SandboxInfo, workdir: Path) -> None:
    root = file_root(sandbox)
    outside = root.parent / f"outside-{workdir.name}"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (workdir / "link").symlink_to(outside)
    base = f"/{workdir.name}"

    # KoKo joins elFinder paths under "/" first, so a root-prefixed ".." path is cleaned
    # before the prefix check and lands under the root.
    body = await elf.json("open", target=h(f"{root}/../{outside.name}"))
    assert body["error"] == ["errAccess", "file does not exist"]
    body = await elf.json("open", target=h("/../../.."))  # cleaned to the root itself
    assert "error" not in body and workdir.name in names(body["files"])
    body = await elf.json("open", target=h(f"{base}/link"))
    assert body["error"] == ["errAccess", "permission denied"]
    response = await elf.call("file", target=h(f"{base}/link/secret"), download="1")
    assert response.status_code == 403 and response.text == "permission denied"
    body = await elf.post(
        {"cmd": "upload", "target": h(f"{base}/link")}, [("upload[]", ("e", b"e"))]
    )
    assert body["warning"] == ["errUploadFile", "permission denied"]
    body = await elf.json("mkdir", target=h(f"{base}/link"), name="n")
    assert body["error"] == ["errMkdir", "n", "permission denied"]
    assert sorted(os.listdir(outside)) == ["secret"]


async def test_zipdl_two_steps(elf: ElfinderClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    (workdir / "pack" / "in").mkdir(parents=True)
    (workdir / "pack" / "in" / "a.txt").write_text("A")
    (workdir / "b.txt").write_text("B")
    body = await elf.json("zipdl", **{"targets[]": [h(f"{base}/pack"), h(f"{base}/b.txt")]})
    info = body["zipdl"]
    assert info["mime"] == "application/zip" and info["name"].endswith(f"{info['file']}.zip")
    fetch = ["x", info["file"], "mine.zip", "application/zip"]
    response = await elf.call("zipdl", download="1", **{"targets[]": fetch})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="mine.zip"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["b.txt", "pack/in/a.txt"]
    assert archive.read("pack/in/a.txt") == b"A"
    again = await elf.json("zipdl", download="1", **{"targets[]": fetch})
    assert "zipdl" not in again and "error" not in again  # a key works once
