"""The `files` tool: a real MCP client moves real files through the daemon and the sandbox."""

from __future__ import annotations

import hashlib
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jsctl_fixtures import LoggedIn
from mcp_agent import Agent, connect_agent, create_client

sys.path.insert(0, str(Path(__file__).parent.parent / "files"))
from files_support import ASSET, file_root


@dataclass
class Scratch:
    """A scratch directory on the asset (``local`` here, ``path`` through jsctl) and a token."""

    local: Path
    path: str
    token: Path


@pytest.fixture
def scratch(shared_login: LoggedIn) -> Iterator[Scratch]:
    """A fresh remote scratch directory and a client token allowed web-* only."""
    name = f"m-{uuid.uuid4().hex[:8]}"
    root = file_root(shared_login)
    (root / name).mkdir(parents=True)
    token = create_client(shared_login.daemon, f"files-{name}", "--allow", "web-*")
    yield Scratch(root / name, "/" + name, token)
    shutil.rmtree(root / name, ignore_errors=True)


async def files(agent: Agent, action: str, **arguments: object) -> tuple[str, bool]:
    """One `files` call on the test asset: (text, is_error)."""
    result = await agent.call("files", action=action, asset=ASSET, **arguments)
    return result.text, result.is_error


async def test_upload_list_move_and_download_answer_without_contents(
    shared_login: LoggedIn, scratch: Scratch, tmp_path: Path
) -> None:
    content = f"secret payload {uuid.uuid4().hex}\n".encode() * 50
    source = tmp_path / "report.txt"
    source.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    target = tmp_path / "back" / "copy.txt"
    target.parent.mkdir()
    async with connect_agent(shared_login.daemon, scratch.token) as agent:
        up, failed = await files(agent, "upload", local=str(source), path=scratch.path + "/")
        assert not failed, up
        listed, _ = await files(agent, "ls", path=scratch.path)
        stat, _ = await files(agent, "stat", path=f"{scratch.path}/report.txt")
        made, _ = await files(agent, "mkdir", path=f"{scratch.path}/a/b", recursive=True)
        moved, _ = await files(
            agent, "mv", path=f"{scratch.path}/report.txt", to=scratch.path + "/a"
        )
        down, failed = await files(
            agent, "download", path=f"{scratch.path}/a/report.txt", local=str(target)
        )
        assert not failed, down
    assert (scratch.local / "a" / "report.txt").read_bytes() == content
    assert target.read_bytes() == content
    for text in (up, down):
        assert f"[files=1 bytes={len(content)} " in text, text
        assert f"sha256={digest}" in text and b"payload" not in text.encode()
    assert f"-> {target}" in down
    assert listed.splitlines()[1].split()[1] == str(len(content))
    assert listed.splitlines()[1].endswith("report.txt"), listed
    assert f"size={len(content)}" in stat and "type=file" in stat
    assert "created=yes" in made and (scratch.local / "a" / "b").is_dir()
    # Reported as the asset's shell sees it: in the sandbox, the file root's real directory.
    assert f"to={scratch.local / 'a' / 'report.txt'}" in moved, moved


async def test_overwrite_needs_force_and_local_paths_must_be_absolute(
    shared_login: LoggedIn, scratch: Scratch, tmp_path: Path
) -> None:
    (scratch.local / "app.conf").write_text("remote version\n")
    local = tmp_path / "app.conf"
    local.write_text("local version\n")
    async with connect_agent(shared_login.daemon, scratch.token) as agent:
        remote = f"{scratch.path}/app.conf"
        refused_up, up_failed = await files(agent, "upload", local=str(local), path=remote)
        refused_down, down_failed = await files(agent, "download", path=remote, local=str(local))
        relative, relative_failed = await files(agent, "download", path=remote, local="app.conf")
        assert (scratch.local / "app.conf").read_text() == "remote version\n"
        assert local.read_text() == "local version\n"
        forced, forced_failed = await files(
            agent, "upload", local=str(local), path=remote, force=True
        )
    assert up_failed and down_failed and relative_failed
    for text in (refused_up, refused_down):
        assert "already exists" in text and "set force" in text and "--force" not in text, text
    assert "absolute" in relative
    assert not forced_failed, forced
    assert (scratch.local / "app.conf").read_text() == "local version\n"


async def test_removing_a_directory_needs_recursive_and_the_root_is_refused(
    shared_login: LoggedIn, scratch: Scratch
) -> None:
    (scratch.local / "logs").mkdir()
    (scratch.local / "logs" / "one.log").write_text("1\n")
    async with connect_agent(shared_login.daemon, scratch.token) as agent:
        plain, plain_failed = await files(agent, "rm", path=f"{scratch.path}/logs")
        assert (scratch.local / "logs" / "one.log").exists()
        root, root_failed = await files(agent, "rm", path="/", recursive=True)
        climb, climb_failed = await files(agent, "rm", path="../..", recursive=True)
        removed, removed_failed = await files(
            agent, "rm", path=f"{scratch.path}/logs", recursive=True
        )
    assert plain_failed and "set recursive" in plain and "-r" not in plain, plain
    assert root_failed and "file root" in root, root
    assert climb_failed and "above the file root" in climb, climb
    assert scratch.local.is_dir()  # neither the root nor the scratch directory went
    assert not removed_failed and "entries=2" in removed, removed
    assert not (scratch.local / "logs").exists()


async def test_a_long_listing_comes_in_pages_and_misses_nothing(
    shared_login: LoggedIn, scratch: Scratch
) -> None:
    names = sorted(f"file-{i:04d}-{'x' * 40}.dat" for i in range(150))
    for name in names:
        (scratch.local / name).write_bytes(b"z")
    seen: list[str] = []
    pages = 0
    async with connect_agent(shared_login.daemon, scratch.token, "--page-chars", "2000") as agent:
        offset = 0
        while True:
            text, failed = await files(agent, "ls", path=scratch.path, offset=offset)
            assert not failed, text
            pages += 1
            lines = text.splitlines()
            body = [line for line in lines[1:] if not line.startswith("[")]
            assert len("\n".join(body)) <= 2000
            seen += [line.split()[-1] for line in body]
            if not lines[-1].startswith("[") or "more: files action=ls" not in lines[-1]:
                break
            offset = int(lines[-1].rsplit("offset=", 1)[1].rstrip("]"))
    assert seen == names and pages > 2
    assert "entries=150" in text


async def test_files_obeys_the_allow_list_and_the_tool_limit(
    shared_login: LoggedIn, scratch: Scratch
) -> None:
    limited = create_client(
        shared_login.daemon, f"runner-{uuid.uuid4().hex[:6]}", "--allow", "*", "--tools", "run"
    )
    async with connect_agent(shared_login.daemon, scratch.token) as agent:
        hidden = await agent.call("files", action="ls", asset="db-01")
        bad_flag = await agent.call("files", action="rm", asset=ASSET, path="x", recursive="yes")
        bad_action = await agent.call("files", action="cat", asset=ASSET, path="x")
        missing = await agent.call("files", action="mv", asset=ASSET, path="x")
    async with connect_agent(shared_login.daemon, limited) as agent:
        refused = await agent.call("files", action="ls", asset=ASSET)
    assert hidden.is_error and "db-01" in hidden.text
    assert bad_flag.is_error and "must be bool" in bad_flag.text
    assert bad_action.is_error and "must be one of ls, stat" in bad_action.text
    assert missing.is_error and "needs to" in missing.text
    assert refused.is_error and "Not allowed" in refused.text and "files.list" in refused.text
