"""`jsctl mcp`: start-up to tools/list, the size of the tool list, and the cost of a run via MCP.

Each figure is printed beside a baseline measured in the same run (importing the MCP SDK
alone; the same command through `jsctl exec` and through a raw RPC call).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio
from benchlib import median_ms, percentile, report
from jsctl_fixtures import LoggedIn
from jsctl_testing import JSCTL, DaemonProcess

sys.path.insert(0, str(Path(__file__).parent.parent / "mcp"))
from mcp_agent import connect_agent, create_client

pytestmark = pytest.mark.bench

TOKEN_TARGET = 1000
_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench", "version": "0"},
    },
}
_INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}


def _start_to_list(daemon: DaemonProcess, token_file: Path) -> tuple[float, dict[str, str]]:
    """Wall time from spawning the shim to the tools/list answer, and the raw answer lines."""
    started = time.perf_counter()
    shim = subprocess.Popen(
        [*JSCTL, "mcp", "--token-file", str(token_file)],
        env=daemon.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert shim.stdin is not None and shim.stdout is not None
    for message in (_INIT, _INITIALIZED, _LIST):
        shim.stdin.write(json.dumps(message) + "\n")
    shim.stdin.flush()
    lines = {"initialize": shim.stdout.readline(), "tools/list": shim.stdout.readline()}
    elapsed = time.perf_counter() - started
    shim.stdin.close()
    shim.wait(timeout=10)
    return elapsed, lines


def _import_sdk() -> float:
    """Spawn to ready of a process that only imports the SDK parts the shim uses."""
    started = time.perf_counter()
    code = "import mcp.server.lowlevel, mcp.server.stdio; print('ready', flush=True)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.wait()
    return elapsed


def test_bench_shim_start_and_tool_list_size(jsctl_daemon: DaemonProcess) -> None:
    token = create_client(jsctl_daemon, "bench", "--allow", "*")
    shim_samples, sdk_samples = [], []
    lines: dict[str, str] = {}
    for _ in range(7):
        sdk_samples.append(_import_sdk())
        elapsed, lines = _start_to_list(jsctl_daemon, token)
        shim_samples.append(elapsed)
    listed = json.loads(lines["tools/list"])["result"]["tools"]
    assert len(listed) == 9
    list_bytes = len(lines["tools/list"].encode())
    instructions = json.loads(lines["initialize"])["result"].get("instructions", "")
    report(
        "jsctl mcp: spawn -> initialize -> tools/list answered (median of 7)",
        {
            "import the MCP SDK (baseline)": median_ms(sdk_samples),
            "jsctl mcp start -> tools/list": median_ms(shim_samples),
        },
        baseline="import the MCP SDK (baseline)",
    )
    # What the model reads: names, descriptions and input schemas. Annotations (read-only,
    # destructive, ...) are for the agent's client deciding approvals, not for the model.
    model_view = [{k: v for k, v in tool.items() if k != "annotations"} for tool in listed]
    tokens = len(json.dumps(model_view, separators=(",", ":")).encode()) / 4
    report(
        "jsctl mcp: what the tool surface costs an agent's context",
        {
            "tools/list answer (bytes)": list_bytes,
            "tools/list answer (~tokens = bytes/4)": list_bytes / 4,
            "what the model reads (~tokens, no annotations)": tokens,
            "server instructions (~tokens)": len(instructions) / 4,
            "largest tool (bytes)": max(len(json.dumps(tool)) for tool in listed),
        },
        unit="",
    )
    print(f"  target: tools/list <= {TOKEN_TARGET} tokens ({tokens / TOKEN_TARGET:.0%} of it)")
    assert tokens <= TOKEN_TARGET


def _time_exec(daemon: DaemonProcess, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = daemon.cli("exec", "web-01", "--", "echo", "x", input="")
        samples.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr
    return samples


def _time_rpc(daemon: DaemonProcess, token_file: Path, session: str, runs: int) -> list[float]:
    """The same run as the agent's identity, over one raw RPC connection."""
    samples = []
    with daemon.client(token=token_file.read_text().strip()) as client:
        for _ in range(runs):
            started = time.perf_counter()
            reply: dict[str, Any] = client.call("run.start", session=session, command="echo x")
            samples.append(time.perf_counter() - started)
            assert reply["exit_status"] == 0
    return samples


async def test_bench_run_through_mcp_against_jsctl_exec(shared_login: LoggedIn) -> None:
    daemon = shared_login.daemon
    token = create_client(daemon, "bench-run", "--allow", "web-*")
    runs = 25
    async with connect_agent(daemon, token) as agent:
        warm = await agent.call("run", asset="web-01", command="echo x")
        assert not warm.is_error, warm.text
        session = warm.fields["session"]
        mcp_samples, mcp_session_samples = [], []
        exec_samples: list[float] = []
        rpc_samples: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            result = await agent.call("run", asset="web-01", command="echo x")
            mcp_samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            await agent.call("run", session=session, command="echo x")
            mcp_session_samples.append(time.perf_counter() - started)
            assert result.fields["exit"] == "0"
            exec_samples += await trio.to_thread.run_sync(_time_exec, daemon, 1)
            rpc_samples += await trio.to_thread.run_sync(_time_rpc, daemon, token, session, 1)
    rows = {
        "raw RPC run.start, same session (baseline)": median_ms(rpc_samples),
        "MCP run (asset, session reused) p50": median_ms(mcp_samples),
        "MCP run (session id) p50": median_ms(mcp_session_samples),
        "jsctl exec process p50": median_ms(exec_samples),
        "MCP run (asset) p90": percentile(mcp_samples, 0.9) * 1000,
        "jsctl exec process p90": percentile(exec_samples, 0.9) * 1000,
    }
    report(
        f"a short command on web-01, {runs} rounds interleaved",
        rows,
        baseline="raw RPC run.start, same session (baseline)",
    )
    overhead = rows["MCP run (session id) p50"] - rows["raw RPC run.start, same session (baseline)"]
    print(f"  MCP per-call overhead over raw RPC (same session): {overhead:.1f} ms")
