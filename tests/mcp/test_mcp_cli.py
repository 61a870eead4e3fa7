"""`jsctl client`, `jsctl mcp install` and `jsctl audit` through the real CLI and daemon."""

from __future__ import annotations

import json
import stat
import subprocess
import time
import tomllib
from pathlib import Path

import trio
from jsctl_testing import JSCTL, DaemonProcess
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp_agent import connect_agent, create_client


def test_client_create_shows_the_token_once_and_stores_it_hashed(
    jsctl_daemon: DaemonProcess,
) -> None:
    created = jsctl_daemon.cli("client", "create", "ci-bot", "--allow", "web-*,db-*")
    assert created.returncode == 0, created.stderr
    token = created.stdout.split("Token (shown once, stored hashed): ")[1].split()[0]
    assert token.startswith("jsc_")
    listed = jsctl_daemon.cli("client", "ls")
    assert "ci-bot" in listed.stdout and "web-*,db-*" in listed.stdout
    as_json = jsctl_daemon.cli("client", "ls", "--json")
    stored = "".join(p.read_text() for p in jsctl_daemon.paths.state_dir.rglob("clients.json"))
    for text in (listed.stdout, as_json.stdout, stored, jsctl_daemon.log_text()):
        assert token not in text
    again = jsctl_daemon.cli("client", "create", "ci-bot", "--allow", "*")
    assert again.returncode == 1 and "exists" in again.stderr
    no_allow = jsctl_daemon.cli("client", "create", "loose")
    assert no_allow.returncode == 1 and "--allow" in no_allow.stderr


async def test_an_expired_or_unknown_token_is_refused(jsctl_daemon: DaemonProcess) -> None:
    short = create_client(jsctl_daemon, "brief", "--allow", "*", "--expires", "1s")
    assert stat.S_IMODE(short.stat().st_mode) == 0o600
    await trio.sleep(1.2)
    async with connect_agent(jsctl_daemon, short) as agent:
        expired = await agent.call("sessions")
    assert expired.is_error and "expired" in expired.text
    bogus = jsctl_daemon.home / "bogus.token"
    bogus.write_text("jsc_" + "x" * 40)
    async with connect_agent(jsctl_daemon, bogus) as agent:
        unknown = await agent.call("find")
    assert unknown.is_error and "not known" in unknown.text
    assert "x" * 40 not in unknown.text


def test_the_shim_refuses_to_start_without_a_token(jsctl_daemon: DaemonProcess) -> None:
    env = {k: v for k, v in jsctl_daemon.env.items() if k != "JSCTL_CLIENT_TOKEN"}
    result = subprocess.run(
        [*JSCTL, "mcp"], env=env, input="", capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and result.stdout == ""
    assert "jsctl mcp install" in result.stderr


def test_install_codex_adds_one_entry_and_keeps_the_rest(jsctl_daemon: DaemonProcess) -> None:
    config = jsctl_daemon.home / "codex" / "config.toml"
    config.parent.mkdir()
    original = 'model = "o4"\n\n[mcp_servers.other]\ncommand = "other-mcp"\n'
    config.write_text(original)
    result = jsctl_daemon.cli(
        "mcp", "install", "codex", "--allow", "staging-*", "--config", str(config)
    )
    assert result.returncode == 0, result.stderr
    text = config.read_text()
    assert text.startswith(original)
    parsed = tomllib.loads(text)
    assert parsed["model"] == "o4" and parsed["mcp_servers"]["other"]["command"] == "other-mcp"
    entry = parsed["mcp_servers"]["jsctl"]
    token_file = Path(entry["args"][entry["args"].index("--token-file") + 1])
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() not in text + result.stdout
    assert entry["env"]["JSCTL_HOME"] == str(jsctl_daemon.home)
    clobber = jsctl_daemon.cli(
        "mcp", "install", "codex", "--client", "second", "--allow", "*", "--config", str(config)
    )
    assert clobber.returncode == 1 and "already has mcp_servers.jsctl" in clobber.stderr
    assert config.read_text() == text
    assert "second" not in jsctl_daemon.cli("client", "ls").stdout  # nothing half-created


async def test_the_installed_codex_entry_starts_a_working_shim(
    jsctl_daemon: DaemonProcess,
) -> None:
    config = jsctl_daemon.home / "config.toml"
    installed = jsctl_daemon.cli(
        "mcp", "install", "codex", "--allow", "web-*", "--config", str(config)
    )
    assert installed.returncode == 0, installed.stderr
    entry = tomllib.loads(config.read_text())["mcp_servers"]["jsctl"]
    # as Codex does it: only the entry's env on top of a basic environment (no JSCTL_HOME)
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=entry["env"])
    with open(jsctl_daemon.home / "codex-shim.log", "w") as errlog:  # noqa: ASYNC230
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("sessions", {})
    assert not result.is_error and "no sessions" in result.content[0].text  # type: ignore[union-attr]


def test_install_claude_merges_into_mcp_json_and_print_writes_nothing(
    jsctl_daemon: DaemonProcess,
) -> None:
    config = jsctl_daemon.home / ".mcp.json"
    config.write_text(json.dumps({"mcpServers": {"keep": {"command": "x"}}}))
    result = jsctl_daemon.cli(
        "mcp", "install", "claude", "--allow", "staging-*", "--config", str(config), "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(config.read_text())
    assert data["mcpServers"]["keep"] == {"command": "x"}
    assert data["mcpServers"]["jsctl"]["args"][-2] == "--token-file"
    assert "claude mcp add-json --scope user jsctl" in json.loads(result.stdout)["claude_command"]
    before = config.read_text()
    printed = jsctl_daemon.cli(
        "mcp", "install", "claude", "--client", "c2", "--allow", "*", "--print",
        "--config", str(config),
    )  # fmt: skip
    assert printed.returncode == 0 and '"mcpServers"' in printed.stdout
    assert config.read_text() == before


def test_audit_follow_streams_new_records(jsctl_daemon: DaemonProcess) -> None:
    follower = subprocess.Popen(
        [*JSCTL, "audit", "--follow", "--json"],
        env=jsctl_daemon.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # let it subscribe; the record below is newer
        create_client(jsctl_daemon, "watched", "--allow", "web-*")
        assert follower.stdout is not None
        record = json.loads(follower.stdout.readline())
    finally:
        follower.terminate()
        follower.wait(timeout=10)
    assert record["action"] == "client.create" and record["target"] == "watched"
    assert record["client"] == "human"
    since = jsctl_daemon.cli("audit", "--since", "1h", "--json")
    assert [r["target"] for r in json.loads(since.stdout)["records"]] == ["watched"]
    none = jsctl_daemon.cli("audit", "--since", str(time.time() + 60), "--json")
    assert json.loads(none.stdout)["records"] == []
