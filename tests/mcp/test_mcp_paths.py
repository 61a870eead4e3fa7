"""Paths that `cp`/`ls`/`stat` and the MCP `files` tool report are the ones the asset's shell
sees: in the sandbox the file root is a real directory the shell reaches under that same path."""

from __future__ import annotations

import json
from pathlib import Path

from jsctl_fixtures import LoggedIn
from mcp_agent import new_agent


async def test_reported_paths_are_the_shells(shared_login: LoggedIn, tmp_path: Path) -> None:
    cli = shared_login.daemon.cli
    local = tmp_path / "paths.txt"
    local.write_text("seen by the shell\n")
    copied = cli("cp", str(local), "web-02:paths-i14.txt")
    assert copied.returncode == 0, copied.stderr
    reported = copied.stderr.split("uploaded ", 1)[1].split()[0]
    assert reported.startswith("/") and reported.endswith("/paths-i14.txt")
    shell = cli("exec", "web-02", "--", f"cat {reported}")
    assert (shell.returncode, shell.stdout) == (0, "seen by the shell\n"), shell.stderr
    stat = json.loads(cli("--json", "stat", "web-02:paths-i14.txt").stdout)
    assert stat["entry"]["shell_path"] == reported
    again = cli("stat", f"web-02:{reported}")  # the shell's path is taken back as it is
    assert again.returncode == 0 and f"path: {reported}" in again.stdout, again.stderr
    async with new_agent(shared_login.daemon, "pathfinder", "--allow", "web-*") as agent:
        seen = await agent.call("files", action="stat", asset="web-02", path="/paths-i14.txt")
    assert f"path={reported}" in seen.text, seen.text
