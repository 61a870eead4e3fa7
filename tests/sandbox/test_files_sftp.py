"""``/koko/ws/sftp/`` (sheet 8.2) replayed against the real sandbox over WSS."""

from __future__ import annotations

import base64
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import trio
from test_files_support import FileUser, SftpClient, file_root, open_koko, open_sftp
from trio_websocket import ConnectionRejected

from jsctl_sandbox.testing import SandboxInfo

CHUNK = 2 * 1024 * 1024


async def test_connect_carries_user_and_asset(sandbox: SandboxInfo, admin: FileUser) -> None:
    async with open_sftp(sandbox, admin) as client:
        pass
    token = await trio.to_thread.run_sync(admin.token)
    query = f"token={token}"
    async with open_koko(sandbox, "/koko/ws/sftp/", cookie=admin.cookie, query=query) as ws:
        assert ws.subprotocol == "JMS-KOKO"
        client = SftpClient(ws)
        connect = await client.connected()
        data = json.loads(connect["data"])
        assert data["user"]["username"] == "admin"
        assert data["asset"]["name"] == "web-01"
        assert connect["raw"] is None and connect["cmd"] == "" and connect["current_path"] == ""


async def test_list_root_and_current_path(
    sftp: SftpClient, sandbox: SandboxInfo, workdir: Path
) -> None:
    (workdir / "a.txt").write_bytes(b"hello")
    (workdir / ".hidden").write_bytes(b"x")
    (workdir / "sub").mkdir()
    root = file_root(sandbox)
    reply = await sftp.ok("list", {"path": ""})
    assert reply["current_path"] == str(root)
    assert workdir.name in {e["name"] for e in json.loads(reply["data"])}

    for path in (f"/{workdir.name}", workdir.name, str(workdir)):  # sheet 8.3: all the same
        reply = await sftp.ok("list", {"path": path})
        assert reply["current_path"] == str(workdir)
        entries = {e["name"]: e for e in json.loads(reply["data"])}
        assert set(entries) == {"a.txt", "sub"}  # dot-files omitted
    file, folder = entries["a.txt"], entries["sub"]
    assert file["size"] == "5" and file["is_dir"] is False and file["type"] == ""
    assert file["perm"].startswith("-rw") and folder["perm"].startswith("drwx")
    assert file["mod_time"] == str(int((workdir / "a.txt").stat().st_mtime))
    assert folder["is_dir"] is True

    # Later replies carry the last listed directory.
    reply = await sftp.ok("mkdir", {"path": f"/{workdir.name}/x"})
    assert reply["data"] == "ok" and reply["current_path"] == str(workdir)


async def test_list_of_missing_directory_is_empty(sftp: SftpClient, workdir: Path) -> None:
    reply = await sftp.ok("list", {"path": f"/{workdir.name}/nope"})
    assert reply["data"] == "[]" and reply["current_path"] == str(workdir / "nope")


async def test_mkdir_rename_rm(sftp: SftpClient, workdir: Path) -> None:
    base = f"/{workdir.name}"
    assert (await sftp.ok("mkdir", {"path": f"{base}/d1/d2"}))["data"] == "ok"
    assert (workdir / "d1" / "d2").is_dir()
    assert (await sftp.ok("mkdir", {"path": f"{base}/d1"}))["data"] == "ok"  # exists: fine
    (workdir / "f").write_text("x")
    reply = await sftp.request("mkdir", {"path": f"{base}/f"})
    assert "not a directory" in reply["err"]

    await sftp.ok("rename", {"path": f"{base}/d1", "new_name": "moved"})
    assert (workdir / "moved" / "d2").is_dir() and not (workdir / "d1").exists()
    (workdir / "g").write_text("y")
    reply = await sftp.request("rename", {"path": f"{base}/g", "new_name": "f"})
    assert reply["err"] and reply["data"] == ""  # a file never replaces another
    reply = await sftp.request("rename", {"path": f"{base}/none", "new_name": "z"})
    assert reply["err"] == "file does not exist"

    await sftp.ok("rm", {"path": f"{base}/moved"})  # directories go recursively
    await sftp.ok("rm", {"path": f"{base}/f"})
    assert sorted(os.listdir(workdir)) == ["g"]
    reply = await sftp.request("rm", {"path": f"{base}/f"})
    assert reply["err"] == "file does not exist"


async def test_upload_whole_and_download(sftp: SftpClient, workdir: Path) -> None:
    path = f"/{workdir.name}/up.bin"
    content = os.urandom(1000)
    reply = await sftp.ok("upload", {"path": path, "size": len(content)}, raw=content)
    assert reply["data"] == "ok"
    assert (workdir / "up.bin").read_bytes() == content

    chunks, final = await sftp.download(path)
    assert final["type"] == "SFTP_DATA" and final["data"] == "up.bin" and final["err"] == ""
    assert [base64.b64decode(c["raw"]) for c in chunks] == [content]
    assert all(c["data"] == "" for c in chunks)


async def test_download_streams_two_mib_chunks(sftp: SftpClient, workdir: Path) -> None:
    content = os.urandom(2 * CHUNK + 123)
    (workdir / "big").write_bytes(content)
    chunks, final = await sftp.download(f"/{workdir.name}/big")
    sizes = [len(base64.b64decode(c["raw"])) for c in chunks]
    assert sizes == [CHUNK, CHUNK, 123]
    assert b"".join(base64.b64decode(c["raw"]) for c in chunks) == content
    assert final["data"] == "big"

    (workdir / "exact").write_bytes(content[:CHUNK])
    chunks, _ = await sftp.download(f"/{workdir.name}/exact")
    assert [c["raw"] for c in chunks][1:] == [""]  # Go's last empty read: raw ""
    (workdir / "empty").write_bytes(b"")
    chunks, final = await sftp.download(f"/{workdir.name}/empty")
    assert [c["raw"] for c in chunks] == [""] and final["data"] == "empty"


async def test_download_errors(sftp: SftpClient, workdir: Path) -> None:
    chunks, final = await sftp.download(f"/{workdir.name}/missing")
    assert chunks == [] and final["err"] == "file does not exist" and final["data"] == ""


async def test_download_directory_as_zip(sftp: SftpClient, workdir: Path) -> None:
    (workdir / "tree" / "inner").mkdir(parents=True)
    (workdir / "tree" / "a.txt").write_text("A")
    (workdir / "tree" / "inner" / "b.txt").write_text("B")
    (workdir / "tree" / "empty").mkdir()
    chunks, final = await sftp.download(f"/{workdir.name}/tree", is_dir=True)
    assert final["data"].startswith("tree-") and final["data"].endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(base64.b64decode(c["raw"]) for c in chunks)))
    assert archive.read("a.txt") == b"A" and archive.read("inner/b.txt") == b"B"
    assert "empty/" in archive.namelist()


async def test_chunked_upload_and_merge(sftp: SftpClient, workdir: Path) -> None:
    path = f"/{workdir.name}/chunked.bin"
    content = os.urandom(3 * 100_000 + 7)
    cid = "424242"
    offset = 0
    for piece in (content[:100_000], content[100_000:300_000], content[300_000:]):
        data = {"path": path, "chunk": True, "offset": offset}
        reply = await sftp.ok("upload", data, id=cid, raw=piece)
        assert reply["data"] == path
        offset += len(piece)
    assert not (workdir / "chunked.bin").exists()  # staged until merged
    reply = await sftp.ok("upload", {"path": path, "merge": True}, id=cid)
    assert reply["data"] == "ok"
    assert (workdir / "chunked.bin").read_bytes() == content

    reply = await sftp.request("upload", {"path": path, "merge": True}, id=cid)
    assert reply["err"] == f"chunk file not found {cid}" and reply["data"] == "ok"


async def test_upload_needs_integer_id(sftp: SftpClient, workdir: Path) -> None:
    path = f"/{workdir.name}/x"
    reply = await sftp.request("upload", {"path": path, "size": 1}, id="abc", raw=b"x")
    assert reply["err"] == 'strconv.Atoi: parsing "abc": invalid syntax'
    assert not (workdir / "x").exists()


async def test_unknown_command_and_bad_data(sftp: SftpClient) -> None:
    reply = await sftp.request("chmod", {"path": "/"})
    assert reply["err"] == "Unknown command" and reply["type"] == "SFTP_DATA"
    reply = await sftp.request("list", "")
    assert reply["err"] == "unexpected end of JSON input"
    reply = await sftp.request("list", {"path": 5})
    assert reply["err"] == (
        "json: cannot unmarshal number into Go struct field webSftpRequest.path of type string"
    )


async def test_ping_is_ignored(sftp: SftpClient) -> None:
    await sftp.ws.send_message(json.dumps({"id": "", "type": "PING", "data": ""}))
    await sftp.ws.send_message(json.dumps({"id": "", "type": "PONG", "data": ""}))
    await sftp.assert_silent()
    await sftp.ok("list", {"path": ""})


async def test_paths_are_confined_to_the_root(
    sftp: SftpClient, sandbox: SandboxInfo, workdir: Path
) -> None:
    root = file_root(sandbox)
    outside = root.parent / f"outside-{workdir.name}"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (workdir / "link").symlink_to(outside)
    (workdir / "filelink").symlink_to(outside / "secret")

    for path in ("/../", f"/{workdir.name}/../../{outside.name}", str(outside)):
        reply = await sftp.ok("list", {"path": path})
        assert reply["data"] == "[]", path
    assert set(await sftp.listing(f"/{workdir.name}")) == set()  # links out are not shown
    reply = await sftp.ok("list", {"path": f"/{workdir.name}/link"})
    assert reply["data"] == "[]"

    chunks, final = await sftp.download(f"/{workdir.name}/filelink")
    assert final["err"] == "permission denied" and chunks == []
    chunks, final = await sftp.download(f"/../{outside.name}/secret")
    assert final["err"] == "permission denied"
    reply = await sftp.request("upload", {"path": "/../evil", "size": 1}, raw=b"e")
    assert reply["err"] == "permission denied"
    reply = await sftp.request(
        "upload", {"path": f"/{workdir.name}/link/evil", "size": 1}, raw=b"e"
    )
    assert reply["err"] == "permission denied"
    reply = await sftp.request("mkdir", {"path": f"/{workdir.name}/link/newdir"})
    assert reply["err"] == "permission denied"
    reply = await sftp.request("rename", {"path": workdir.name, "new_name": "../../x"})
    assert reply["err"] == "permission denied"
    reply = await sftp.request("rm", {"path": "/"})
    assert reply["err"] == "permission denied"
    reply = await sftp.request("rm", {"path": "/.."})
    assert reply["err"] == "permission denied"
    assert sorted(os.listdir(outside)) == ["secret"] and root.is_dir()

    await sftp.ok("rm", {"path": f"/{workdir.name}/link"})  # removes the link, not its target
    assert (outside / "secret").exists()


async def test_login_redirect_without_cookie(sandbox: SandboxInfo, admin: FileUser) -> None:
    token = await trio.to_thread.run_sync(admin.token)
    with pytest.raises(ConnectionRejected) as rejected:
        async with open_koko(sandbox, "/koko/ws/sftp/", cookie="", query=f"token={token}"):
            pass
    assert rejected.value.status_code == 302
    headers = dict(rejected.value.headers or [])
    location = headers[b"location"].decode()
    assert location.startswith("/core/auth/login/?next=%2Fkoko%2Fws%2Fsftp%2F%3Ftoken%3D")


async def test_token_is_consumed(sandbox: SandboxInfo, admin: FileUser) -> None:
    token = await trio.to_thread.run_sync(admin.token)
    async with open_sftp(sandbox, admin, token):
        pass
    query = f"token={token}"
    async with open_koko(sandbox, "/koko/ws/sftp/", cookie=admin.cookie, query=query) as ws:
        client = SftpClient(ws)
        error = await client.receive()
        assert error["type"] == "ERROR" and error["err"].startswith("Connection token expired")
        await client.send("list", {"path": ""})
        await client.assert_silent()
