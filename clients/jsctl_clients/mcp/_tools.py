"""The MCP tool surface: nine small tools, short descriptions, tight schemas.

Every byte here is paid in every agent's context window, so the wording is terse and the
schemas forbid what the tools do not take. Tool names are the tool groups the method table
declares (``TOOL_METHODS``: what ``jsctl client create --tools`` restricts); each tool's
annotations (read-only, destructive, idempotent, open-world) follow from its group's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsctl_protocol import METHODS, TOOL_METHODS, Method, Param, Permission, RpcError
from jsctl_protocol._table import DEFAULT_MAX_NUMBER

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


_JSON_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
}


def _schema(param: Param) -> dict[str, Any]:
    """A table parameter as JSON Schema: the rules an agent sees are the rules that are checked."""
    schema: dict[str, Any] = {"type": _JSON_TYPES[param.kind]}
    if param.doc:
        schema["description"] = param.doc
    if param.choices is not None:
        schema["enum"] = list(param.choices)
    if param.pattern is not None:
        schema["pattern"] = f"^({param.pattern})$"
    for key, value in (("minimum", param.minimum), ("maximum", param.maximum)):
        if value is not None and abs(value) != DEFAULT_MAX_NUMBER:
            schema[key] = value
    if param.kind == "list":
        items = param.items if isinstance(param.items, Param) else Param("", param.items, "")
        schema["items"] = _schema(items)
    return schema


class ToolSpec:
    """One tool: its name, description and parameters (table ``Param``s, checked by the table's
    own validator, ``Method.check_params``)."""

    def __init__(
        self, name: str, title: str, description: str, params: tuple[Param, ...] = ()
    ) -> None:
        self.name, self.title, self.description, self.params = name, title, description, params
        self.required = tuple(param.name for param in params if param.required)
        self._row = Method(name, description, params)

    @property
    def hints(self) -> Hints:
        """What the tool may do, derived from the rows of its tool group (see ``hints_for``)."""
        return hints_for(self.name, self.title)

    @property
    def read_only(self) -> bool:
        """Whether the tool only looks (its MCP annotation)."""
        return self.hints.read_only

    def input_schema(self) -> dict[str, Any]:
        """The JSON Schema of the tool's arguments."""
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {param.name: _schema(param) for param in self.params},
            "additionalProperties": False,
        }
        if self.required:
            schema["required"] = list(self.required)
        return schema

    def check(self, arguments: dict[str, Any]) -> str | None:
        """What is wrong with ``arguments`` for this tool, in one sentence; None if nothing."""
        missing = [name for name in self.required if arguments.get(name) == ""]
        if missing:
            return f"`{self.name}` needs parameter `{missing[0]}`"
        try:
            self._row.check_params(arguments)
        except RpcError as exc:
            return exc.message
        return None


def _like(method: str, name: str, doc: str = "", *, required: bool = False) -> Param:
    """The table's parameter ``name`` of ``method`` (its kind and limits), with the tool's own
    (terse) doc line: every byte of a schema is paid in the agent's context window."""
    row = METHODS[method]
    source = next(param for param in row.params if param.name == name)
    return Param(
        name,
        source.kind,
        doc,
        required,
        minimum=source.minimum,
        maximum=source.maximum,
        max_len=source.max_len,
        choices=source.choices,
        items=source.items,
        pattern=source.pattern,
    )


def _s(name: str, doc: str = "", *, required: bool = False) -> Param:
    return Param(name, "str", doc, required)


_ID = "session id/name, run or fleet handle"
_SESSION = "session id or name"


def _wait() -> Param:
    return Param("wait", "float", "", minimum=0, maximum=600)


def _chars() -> Param:
    return Param("max_chars", "int", "", minimum=200, maximum=100000)


_KEY = Param("keys[]", "str", "", pattern=KEYS)
_SEQ_ITEM = Param("seq[]", "str", "", pattern=f"text:[\\s\\S]*|{KEYS}", max_len=1 << 20)
FILE_ACTIONS = ("ls", "stat", "mkdir", "rm", "mv", "upload", "download")

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "find",
        "Find assets and accounts",
        "List assets you may use; with asset, its accounts.",
        (_s("pattern", "glob or text in name/address"), _s("asset", "asset name")),
    ),
    ToolSpec(
        "run",
        "Run a shell command",
        "Run a shell command in a session or on an asset (opens/reuses one); asset glob (web-*),"
        " list (a,b) or node: runs on each, grouped. Returns output, exit status, how to"
        " read more; if still running after wait s (default 30), a handle.",
        (
            _like("run.start", "command", required=True),
            _s("asset"),
            _s("node"),
            _s("account"),
            _s("session", _SESSION),
            _wait(),
            _like("run.start", "request_id", "retry key: a repeated id never reruns"),
            _chars(),
        ),
    ),
    ToolSpec(
        "read",
        "Read output",
        "Read output of a session or run from offset (default: where you stopped; negative: that"
        " many bytes before the end); wait s for more or the run's end.",
        (_s("id", _ID, required=True), Param("offset", "int", ""), _wait(), _chars()),
    ),
    ToolSpec(
        "input",
        "Type into a session",
        "Type into a session: text then keys, or seq in order (items: key names or text:…);"
        " returns the output that follows.",
        (
            _s("session", _SESSION, required=True),
            Param("text", "str", "", max_len=1 << 20),
            Param("keys", "list", "", items=_KEY),
            Param("seq", "list", "", items=_SEQ_ITEM),
            _wait(),
        ),
    ),
    ToolSpec(
        "interrupt",
        "Interrupt (Ctrl-C)",
        "Send Ctrl-C to a run or session.",
        (_s("id", _ID, required=True),),
    ),
    ToolSpec(
        "screen",
        "Show a session's screen",
        "The session's screen as a person sees it (full-screen programs).",
        (_s("session", _SESSION, required=True),),
    ),
    ToolSpec(
        "sessions",
        "List your sessions",
        "Your sessions, their runs and unread output; `paused` (an administrator paused it: "
        "input is dropped), `server_idle_in` (KoKo ends a session that long after its last "
        "input, output or resize) and `idle_warning` when that is near.",
    ),
    ToolSpec(
        "close", "Close a session", "End a session.", (_s("session", _SESSION, required=True),)
    ),
    ToolSpec(
        "files",
        "Files on an asset",
        "Files on an asset. path: remote, under its file root; local: absolute path on this"
        " machine (upload source, download target); to: mv target. Dirs need recursive (mkdir:"
        " parents); overwriting needs force.",
        (
            Param("action", "str", "", True, choices=FILE_ACTIONS),
            _s("asset", required=True),
            _s("path"),
            _s("local"),
            _s("to"),
            _s("account"),
            Param("recursive", "bool", ""),
            Param("force", "bool", ""),
            Param("offset", "int", "", minimum=0),
        ),
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


def hints_for(tool: str, title: str) -> Hints:
    """A tool's annotations, from the rows of its tool group: it only looks if every row only
    reads; repeating it is harmless if every row is retry-safe; it reaches outside the daemon if
    it changes something (on an asset) or a row names a profile (asks its JumpServer)."""
    rows = [METHODS[name] for name in TOOL_METHODS[tool]]
    read_only = all(row.permission in (Permission.PUBLIC, Permission.READ) for row in rows)
    reaches_server = any(param.name == "profile" for row in rows for param in row.params)
    return Hints(
        title=title,
        read_only=read_only,
        destructive=not read_only,
        idempotent=all(row.retry_safe for row in rows),
        open_world=not read_only or reaches_server,
    )
