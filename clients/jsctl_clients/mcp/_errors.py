"""Failures told to the agent in words it can act on: never a stack trace, never a secret."""

from __future__ import annotations

import logging
import re

from jsctl_protocol import ErrorCode, RpcError

from ..rpc import DaemonUnreachable
from ._link import DaemonLost

log = logging.getLogger("jsctl.mcp")

_TOKENS = re.compile(r"jsc_[A-Za-z0-9_-]{16,}")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without client tokens (ours and any other that slipped in)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _TOKENS.sub("[redacted token]", text)


def explain(exc: BaseException) -> str:
    """One paragraph for the agent about why a tool call failed and what to do next."""
    if isinstance(exc, RpcError):
        return _explain_rpc(exc)
    if isinstance(exc, DaemonLost):
        return f"{exc}. The call may or may not have taken effect: check with `sessions`."
    if isinstance(exc, DaemonUnreachable):
        return f"jsctl is not available: {exc}. Ask the person to run `jsctl doctor`."
    log.exception("tool failed")  # the traceback goes to stderr (the agent's log), not the result
    return f"jsctl mcp hit an internal error ({type(exc).__name__}); the person can see its log."


# CLI advice inside daemon messages, said the way an agent does it.
_FOR_AGENTS = (
    (
        "(`jsctl assets` lists them; `--refresh` if it was added just now)",
        "(the `find` tool lists the ones you may use)",
    ),
    ("`jsctl sessions` lists them", "the `sessions` tool lists yours"),
    ("open a new one with `jsctl shell`", "use `run` with an asset to open a new one"),
    # the file operations' flags are the `files` tool's arguments
    ("use -r", "set recursive=true"),
    ("use -p", "set recursive=true"),
    ("use --force", "set force=true"),
)

# A `jsctl …` command an agent has a tool for; any other is the person's to run.
_TOOL_FOR_COMMAND = {
    "accounts": "the `find` tool",
    "asset": "the `find` tool",
    "assets": "the `find` tool",
    "cp": "the `files` tool",
    "exec": "the `run` tool",
    "files": "the `files` tool",
    "interrupt": "the `interrupt` tool",
    "kill": "the `close` tool",
    "logs": "the `read` tool",
    "ls": "the `files` tool",
    "screen": "the `screen` tool",
    "sessions": "the `sessions` tool",
    "shell": "`run` with an asset",
    "wait": "the `read` tool",
}
_CLI_MENTION = re.compile(r"(?:(?<!to )(?P<run>run ))?`jsctl (?P<command>[a-z-]+)(?P<rest>[^`]*)`")


def for_agents(message: str) -> str:
    """``message`` with its CLI advice in an agent's terms: its tools, or a person to ask."""
    for cli, agent in _FOR_AGENTS:
        message = message.replace(cli, agent)

    def reword(mention: re.Match[str]) -> str:
        tool = _TOOL_FOR_COMMAND.get(mention["command"])
        if tool is not None:
            return f"use {tool}" if mention["run"] else tool
        if mention["run"]:
            return f"ask the person to run `jsctl {mention['command']}{mention['rest']}`"
        return mention[0]

    return _CLI_MENTION.sub(reword, message)


def _explain_rpc(exc: RpcError) -> str:
    message = for_agents(exc.message)
    if exc.code == ErrorCode.LOGIN_REQUIRED:
        if "jsctl login" not in message:
            message += " — ask the person to run `jsctl login`"
        return f"{message}. Then retry this call; open sessions keep working meanwhile."
    if exc.code == ErrorCode.UNAUTHORIZED:
        return (
            f"{message}. This agent's jsctl client token is refused: ask the person to check"
            " `jsctl client ls` or to set the agent up again with `jsctl mcp install`."
        )
    if exc.code == ErrorCode.FORBIDDEN:
        return f"Not allowed: {message}."
    if exc.code == ErrorCode.CONFLICT and "busy" in message.lower():
        return (
            f"{message}\nLook with `screen`, answer with `input`, stop it with `interrupt`, or"
            " `run` with the asset for another session of yours."
        )
    if exc.code == ErrorCode.UNREACHABLE:
        return f"{message}. JumpServer could not be reached; ask the person to run `jsctl doctor`."
    return message
