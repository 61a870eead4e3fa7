"""File API permission gates, session end and token kinds, on a sandbox of its own."""

from __future__ import annotations

import base64
import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from test_files_support import (
    FileUser,
    SftpClient,
    file_root,
    open_elfinder,
    open_koko,
    open_sftp,
    vhash,
)
from trio_websocket import ConnectionRejected

from jsctl_sandbox.testing import SandboxInfo, running_sandbox

CONFIG = textwrap.dedent(
    """
    [[users]]
    username = "admin"
    is_superuser = true

    [[users]]
    username = "viewer"

    [[users]]
    username = "writer"

    [[assets]]
    name = "web-01"
    address = "10.0.1.11"
    nodes = ["/Default/web"]

    [[permissions]]
    name = "admin-all"
    users = ["admin"]
    nodes = ["/Default"]

    [[permissions]]
    name = "viewer-read"
    users = ["viewer"]
    nodes = ["/Default"]
    actions = ["connect", "download"]

    [[permissions]]
    name = "writer-no-download"
    users = ["writer"]
    nodes = ["/Default"]
    actions = ["connect", "upload"]
    """
)


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxInfo]:
    """A sandbox whose users have different actions on web-01."""
    config = tmp_path_factory.mktemp("files-perms") / "sandbox.toml"
    config.write_text(CONFIG)
    with running_sandbox("--no-throttle", "--config", str(config)) as info:
        yield info


@pytest.fixture(scope="module")
def users(restricted: SandboxInfo) -> Iterator[dict[str, FileUser]]:
    logged_in = {name: FileUser(restricted, name) for name in ("admin", "viewer", "writer")}
    yield logged_in
    for user in logged_in.values():
        user.close()


@pytest.fixture
def seeded(restricted: SandboxInfo) -> Path:
    root = file_root(restricted)
    (root / "seed.txt").write_text("seed")
    (root / "dir").mkdir(exist_ok=True)
    return root


async def test_viewer_may_download_but_not_change(
    restricted: SandboxInfo, users: dict[str, FileUser], seeded: Path
) -> None:
    async with open_sftp(restricted, users["viewer"]) as sftp:
        assert "seed.txt" in await sftp.listing("/")
        chunks, final = await sftp.download("/seed.txt")
        assert base64.b64decode(chunks[0]["raw"]) == b"seed" and final["err"] == ""
        reply = await sftp.request("upload", {"path": "/new", "size": 1}, raw=b"x")
        assert reply["err"] == "Permission denied"
        reply = await sftp.request("upload", {"path": "/new", "chunk": True}, id="7", raw=b"x")
        assert reply["err"] == "Permission denied"
        for cmd, data in (
            ("mkdir", {"path": "/newdir"}),
            ("rename", {"path": "/seed.txt", "new_name": "other"}),
            ("rm", {"path": "/seed.txt"}),
        ):
            reply = await sftp.request(cmd, data)
            assert reply["err"] == "permission denied", (cmd, reply)
    assert sorted(os.listdir(seeded)) == ["dir", "seed.txt"]


async def test_writer_may_upload_but_not_download_or_delete(
    restricted: SandboxInfo, users: dict[str, FileUser], seeded: Path
) -> None:
    async with open_sftp(restricted, users["writer"]) as sftp:
        chunks, final = await sftp.download("/seed.txt")
        assert chunks == [] and final["err"] == "Permission denied"
        chunks, final = await sftp.download("/dir", is_dir=True)
        assert final["err"] == "Permission denied"
        await sftp.ok("upload", {"path": "/w.txt", "size": 2}, raw=b"hi")
        await sftp.ok("rename", {"path": "/w.txt", "new_name": "w2.txt"})
        reply = await sftp.request("rm", {"path": "/w2.txt"})
        assert reply["err"] == "permission denied"
    assert (seeded / "w2.txt").read_bytes() == b"hi"


async def test_whole_upload_writes_exactly_size_bytes(
    restricted: SandboxInfo, users: dict[str, FileUser], seeded: Path
) -> None:
    async with open_sftp(restricted, users["admin"]) as sftp:
        await sftp.ok("upload", {"path": "/cut", "size": 3}, raw=b"abcdef")
        await sftp.ok("upload", {"path": "/padded", "size": 4}, raw=b"ab")
        await sftp.ok("upload", {"path": "/nosize"}, raw=b"ab")
    assert (seeded / "cut").read_bytes() == b"abc"
    assert (seeded / "padded").read_bytes() == b"ab\0\0"
    assert (seeded / "nosize").read_bytes() == b""


async def test_session_end_answers_close(
    restricted: SandboxInfo, users: dict[str, FileUser]
) -> None:
    control = restricted.control()
    control.koko(idle_timeout_s=0.3)
    try:
        async with open_sftp(restricted, users["admin"]) as sftp:
            await sftp.ok("list", {"path": "/"})
            await trio.sleep(0.6)
            reply = await sftp.request("list", {"path": "/"})
            assert reply["type"] == "CLOSE" and reply["err"] == "Session expired or not found"
            reply = await sftp.request("mkdir", {"path": "/late"})
            assert reply["type"] == "CLOSE"
    finally:
        control.reset()


async def test_terminal_token_lands_on_a_virtual_root(
    restricted: SandboxInfo, users: dict[str, FileUser], seeded: Path
) -> None:
    admin = users["admin"]
    token = await trio.to_thread.run_sync(lambda: admin.token(protocol="ssh", method="web_cli"))
    async with open_sftp(restricted, admin, token) as sftp:
        reply = await sftp.ok("list", {"path": "/"})
        assert reply["data"] == "[]" and reply["current_path"] == ""
        reply = await sftp.request("mkdir", {"path": "/x"})
        assert reply["err"] == "please select one of the assets"


async def test_other_users_token_gets_silence(
    restricted: SandboxInfo, users: dict[str, FileUser]
) -> None:
    token = await trio.to_thread.run_sync(users["viewer"].token)
    query = f"token={token}"
    cookie = users["admin"].cookie
    async with open_koko(restricted, "/koko/ws/sftp/", cookie=cookie, query=query) as ws:
        client = SftpClient(ws)
        await client.assert_silent()


async def test_missing_token_is_an_error(
    restricted: SandboxInfo, users: dict[str, FileUser]
) -> None:
    cookie = users["admin"].cookie
    async with open_koko(restricted, "/koko/ws/sftp/", cookie=cookie, query="") as ws:
        error = json.loads(await ws.get_message())
        assert error["type"] == "ERROR"
        assert error["err"] == "Miss required ws params (token or target)"


async def test_v3_has_no_sftp_socket() -> None:
    with running_sandbox("--no-throttle", "--server-version", "3.10.23") as info:
        admin = FileUser(info, "admin")
        try:
            token = await trio.to_thread.run_sync(admin.token)
            with pytest.raises(ConnectionRejected) as rejected:
                query = f"token={token}"
                async with open_koko(info, "/koko/ws/sftp/", cookie=admin.cookie, query=query):
                    pass
            assert rejected.value.status_code == 404
        finally:
            admin.close()


async def test_elfinder_actions(
    restricted: SandboxInfo, users: dict[str, FileUser], seeded: Path
) -> None:
    async with open_elfinder(restricted, users["viewer"]) as elf:
        vid = (await elf.json("open", target=""))["cwd"]["volumeid"]
        seed, root = vhash(vid, "/seed.txt"), f"{vid}_Lw"
        response = await elf.call("file", target=seed, download="1")
        assert response.status_code == 200 and response.content == b"seed"
        body = await elf.post({"cmd": "upload", "target": root}, [("upload[]", ("u", b"u"))])
        assert body["warning"] == ["errUploadFile", "permission denied"]
        body = await elf.json("mkdir", target=root, name="n")
        assert body["error"] == ["errMkdir", "n", "permission denied"]
        body = await elf.json("rm", **{"targets[]": seed})
        assert body["error"] == ["errRm", "permission denied"] and "removed" not in body
    async with open_elfinder(restricted, users["writer"]) as elf:
        response = await elf.call("file", target=seed, download="1")
        assert response.status_code == 403 and response.text == "permission denied"
        body = await elf.json("paste", dst=vhash(vid, "/dir"), **{"targets[]": seed})
        assert body["error"] == ["error", "permission denied"] and body["added"] == []
    assert sorted(os.listdir(seeded / "dir")) == []
