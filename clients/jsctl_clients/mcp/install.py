"""Config blocks that start `jsctl mcp` from Codex or Claude Code, and writing them safely.

Only the path of a 0600 token file goes into an agent's config, never the token itself. Writing
adds one entry and refuses to replace an existing one: other entries are never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsctl_paths import Paths

AGENTS = ("codex", "claude")
_PASSED_ENV = ("JSCTL_HOME", "JSCTL_SOCKET", "JSCTL_STATE_DIR", "JSCTL_CONFIG_DIR")
STARTUP_TIMEOUT_S = 30
TOOL_TIMEOUT_S = 660  # above the longest `wait` a tool accepts (600 s)


class InstallError(Exception):
    """The config cannot be written safely; the sentence says why and what to do."""


@dataclass(frozen=True)
class Launch:
    """How an agent starts the shim: command, arguments and environment."""

    command: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)


def token_path(paths: Paths, client: str) -> Path:
    """Where `jsctl mcp install` keeps a client's token (0600, in a 0700 directory)."""
    return paths.state_dir / "clients" / f"{client}.token"


def write_token(path: Path, token: str) -> None:
    """Write ``token`` to ``path`` with mode 0600 (replacing an older one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _atomic_write(path, token + "\n", mode=0o600)


def launch_for(paths: Paths, token_file: Path, env: dict[str, str] | None = None) -> Launch:
    """The command line that starts this installation's shim with ``token_file``."""
    env = dict(os.environ) if env is None else env
    script = Path(sys.executable).parent / "jsctl"
    found = str(script) if script.exists() else shutil.which("jsctl")
    command, prefix = (found, []) if found else (sys.executable, ["-m", "jsctl_clients"])
    passed = {name: env[name] for name in _PASSED_ENV if env.get(name)}
    if "JSCTL_HOME" not in passed:
        passed.setdefault("JSCTL_SOCKET", str(paths.socket))  # agents may not pass XDG_RUNTIME_DIR
    return Launch(command, [*prefix, "mcp", "--token-file", str(token_file)], passed)


def default_config(agent: str, env: dict[str, str] | None = None) -> Path:
    """Where the agent's config is written by default."""
    env = dict(os.environ) if env is None else env
    if agent == "codex":
        home = env.get("CODEX_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".codex")
        return Path(home) / "config.toml"
    return Path.cwd() / ".mcp.json"  # Claude Code's project scope


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    return str(value)


def codex_block(name: str, launch: Launch) -> str:
    """The `[mcp_servers.NAME]` table for ~/.codex/config.toml."""
    lines = [
        f"[mcp_servers.{name if re.fullmatch(r'[A-Za-z0-9_-]+', name) else json.dumps(name)}]",
        f"command = {_toml(launch.command)}",
        f"args = {_toml(launch.args)}",
        f"startup_timeout_sec = {STARTUP_TIMEOUT_S}",
        f"tool_timeout_sec = {TOOL_TIMEOUT_S}",
    ]
    if launch.env:
        lines.append(f"env = {_toml(launch.env)}")
    return "\n".join(lines) + "\n"


def claude_entry(launch: Launch) -> dict[str, Any]:
    """One `mcpServers` entry for Claude Code."""
    entry: dict[str, Any] = {"type": "stdio", "command": launch.command, "args": launch.args}
    if launch.env:
        entry["env"] = launch.env
    return entry


def claude_command(name: str, launch: Launch) -> str:
    """The `claude mcp add-json` line that adds the server for every project of this user."""
    import shlex

    payload = json.dumps(claude_entry(launch), separators=(",", ":"))
    return f"claude mcp add-json --scope user {shlex.quote(name)} {shlex.quote(payload)}"


def check_free(agent: str, config: Path, name: str) -> None:
    """Raise InstallError unless ``config`` can take a new entry ``name``."""
    servers = _servers(agent, config)
    if name in servers:
        key = "mcp_servers" if agent == "codex" else "mcpServers"
        raise InstallError(
            f"{config} already has {key}.{name}; remove it first, pick another --name, "
            "or use --print"
        )


def _servers(agent: str, config: Path) -> dict[str, Any]:
    text = _read(config)
    if not text.strip():
        return {}
    try:
        data = tomllib.loads(text) if agent == "codex" else json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{config} is not valid: {exc}; fix it or use --print") from None
    if not isinstance(data, dict):
        raise InstallError(f"{config} does not hold a table/object; fix it or use --print")
    servers = data.get("mcp_servers" if agent == "codex" else "mcpServers", {})
    return servers if isinstance(servers, dict) else {}


def write_config(agent: str, config: Path, name: str, launch: Launch) -> None:
    """Add the entry to ``config`` (created if missing), keeping everything else as it was."""
    check_free(agent, config, name)
    text = _read(config)
    if agent == "codex":
        separator = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        new_text = text + separator + codex_block(name, launch)
        tomllib.loads(new_text)  # never write a file the agent cannot read
    else:
        data = json.loads(text) if text.strip() else {}
        data.setdefault("mcpServers", {})[name] = claude_entry(launch)
        new_text = json.dumps(data, indent=2) + "\n"
    config.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = config.stat().st_mode & 0o777 if config.exists() else 0o600
    _atomic_write(config, new_text, mode=mode)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror}; use --print") from None


def _atomic_write(path: Path, text: str, mode: int) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
