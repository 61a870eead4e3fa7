"""The MCP tool surface: nine small tools, short descriptions, tight schemas.

Every byte here is paid in every agent's context window, so the wording is terse and the
schemas forbid what the tools do not take. Tool names are the tool groups the method table
declares (``TOOL_METHODS``: what ``jsctl client create --tools`` restricts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KEYS = "enter|tab|esc|backspace|space|up|down|left|right|home|end|pgup|pgdn|ctrl-[a-z]"
KEY_BYTES = {
    "enter": b"\r",
    "tab": b"\t",
    "esc": b"\x1b",
    "backspace": b"\x7f",
    "space": b" ",
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "pgup": b"\x1b[5~",
    "pgdn": b"\x1b[6~",
    **{f"ctrl-{chr(c)}": bytes([c - 96]) for c in range(ord("a"), ord("z") + 1)},
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, description, parameters and which of them are required."""

    name: str
    description: str
    properties: dict[str, dict[str, Any]]
    required: tuple[str, ...] = ()
    read_only: bool = False

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the tool's arguments."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": self.properties,
            "additionalProperties": False,
        }
        if self.required:
            schema["required"] = list(self.required)
        return schema

    def check(self, arguments: dict[str, Any]) -> str | None:
        """What is wrong with ``arguments`` for this tool, in one sentence; None if nothing."""
        unknown = sorted(set(arguments) - set(self.properties))
        if unknown:
            takes = ", ".join(self.properties) or "nothing"
            return f"`{self.name}` does not take {', '.join(unknown)}; it takes {takes}"
        missing = [name for name in self.required if arguments.get(name) in (None, "")]
        if missing:
            return f"`{self.name}` needs {', '.join(missing)}"
        for name, value in arguments.items():
            problem = _check_value(self.properties[name], value)
            if problem and value is not None:
                return f"`{self.name}`: {name} {problem}"
        return None


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "boolean": (bool,),
}


def _check_value(schema: dict[str, Any], value: Any) -> str | None:
    kind: str = schema["type"]
    if isinstance(value, bool) != (kind == "boolean") or not isinstance(value, _TYPES[kind]):
        return f"must be a{'n' if kind[0] in 'ai' else ''} {kind}"
    if "enum" in schema and value not in schema["enum"]:
        return f"must be one of {', '.join(schema['enum'])}"
    if "minimum" in schema and value < schema["minimum"]:
        return f"must be at least {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"must be at most {schema['maximum']}"
    text: str = value if isinstance(value, str) else ""
    if "pattern" in schema and not re.match(str(schema["pattern"]), text):
        return f"must match {schema['pattern']}"
    items: list[Any] = value if isinstance(value, list) else []
    if kind == "array":
        for item in items:
            problem = _check_value(dict(schema["items"]), item)
            if problem:
                return f"items {problem} (got {item!r})"
    return None


def _s(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


_ID = _s("session id/name, run or fleet handle")
_SESSION = _s("session id or name")
_WAIT = {"type": "number", "minimum": 0, "maximum": 600}
_CHARS = {"type": "integer", "minimum": 200, "maximum": 100000}
_FLAG = {"type": "boolean"}
_SEQ_ITEM = f"^(text:[\\s\\S]*|{KEYS})$"  # JSON Schema (ECMA) and Python regex alike
FILE_ACTIONS = ("ls", "stat", "mkdir", "rm", "mv", "upload", "download")

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "find",
        "List assets you may use; with asset, its accounts.",
        {"pattern": _s("glob or text in name/address"), "asset": _s("asset name")},
        read_only=True,
    ),
    ToolSpec(
        "run",
        "Run a shell command in a session or on an asset (opens/reuses one); asset glob (web-*),"
        " list (a,b) or node: runs on each, grouped. Returns output, exit status, how to"
        " read more; if still running after wait s (default 30), a handle.",
        {
            "command": {"type": "string"},
            "asset": {"type": "string"},
            "node": {"type": "string"},
            "account": {"type": "string"},
            "session": _SESSION,
            "wait": _WAIT,
            "request_id": _s("retry key: a repeated id never reruns"),
            "max_chars": _CHARS,
        },
        required=("command",),
    ),
    ToolSpec(
        "read",
        "Read output of a session or run from offset (default: where you stopped; negative: that"
        " many bytes before the end); wait s for more or the run's end.",
        {
            "id": _ID,
            "offset": {"type": "integer"},
            "wait": _WAIT,
            "max_chars": _CHARS,
        },
        required=("id",),
        read_only=True,
    ),
    ToolSpec(
        "input",
        "Type into a session: text then keys, or seq in order (items: key names or text:…);"
        " returns the output that follows.",
        {
            "session": _SESSION,
            "text": {"type": "string"},
            "keys": {"type": "array", "items": {"type": "string", "pattern": f"^({KEYS})$"}},
            "seq": {"type": "array", "items": {"type": "string", "pattern": _SEQ_ITEM}},
            "wait": _WAIT,
        },
        required=("session",),
    ),
    ToolSpec("interrupt", "Send Ctrl-C to a run or session.", {"id": _ID}, required=("id",)),
    ToolSpec(
        "screen",
        "The session's screen as a person sees it (full-screen programs).",
        {"session": _SESSION},
        required=("session",),
        read_only=True,
    ),
    ToolSpec(
        "sessions",
        "Your sessions, their runs and unread output; `paused` (an administrator paused it: "
        "input is dropped) and `server_idle_in` (KoKo ends a session that long after its last "
        "input, output or resize — its own limit, 30 minutes by default).",
        {},
        read_only=True,
    ),
    ToolSpec("close", "End a session.", {"session": _SESSION}, required=("session",)),
    ToolSpec(
        "files",
        "Files on an asset. path: remote, under its file root; local: absolute path on this"
        " machine (upload source, download target); to: mv target. Dirs need recursive (mkdir:"
        " parents); overwriting needs force.",
        {
            "action": {"type": "string", "enum": list(FILE_ACTIONS)},
            "asset": {"type": "string"},
            "path": {"type": "string"},
            "local": {"type": "string"},
            "to": {"type": "string"},
            "account": {"type": "string"},
            "recursive": _FLAG,
            "force": _FLAG,
            "offset": {"type": "integer", "minimum": 0},
        },
        required=("action", "asset"),
    ),
)

BY_NAME = {tool.name: tool for tool in TOOLS}


@dataclass(frozen=True)
class Hints:
    """What an MCP client (Codex, Claude Code) decides approvals from; every field is given."""

    title: str
    read_only: bool
    destructive: bool  # may change or remove something on an asset
    idempotent: bool  # repeating the same call does nothing more
    open_world: bool  # reaches outside the daemon (JumpServer, assets)


HINTS: dict[str, Hints] = {
    "find": Hints("Find assets and accounts", True, False, True, True),
    "run": Hints("Run a shell command", False, True, False, True),
    "read": Hints("Read output", True, False, True, False),
    "input": Hints("Type into a session", False, True, False, True),
    "interrupt": Hints("Interrupt (Ctrl-C)", False, True, False, True),
    "screen": Hints("Show a session's screen", True, False, True, False),
    "sessions": Hints("List your sessions", True, False, True, False),
    "close": Hints("Close a session", False, True, True, True),
    "files": Hints("Files on an asset", False, True, False, True),
}
