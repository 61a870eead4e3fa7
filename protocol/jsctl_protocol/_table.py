"""Declarative pieces of the method table: parameters, permissions and method rows."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any, NoReturn

from ._errors import ErrorCode, RpcError, quote_input


class Permission(enum.StrEnum):
    """What a caller must be allowed to call a method."""

    PUBLIC = "public"  # any peer with our uid: hello, ping
    READ = "read"  # look at assets and sessions, within the client's allow-list
    USE = "use"  # open, drive and close sessions, within the allow-list
    HUMAN = "human"  # only the human's own front ends (no client token): login, clients


_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "bytes": (bytes,),
    "text": (str, bytes),
    "list": (list,),
    "map": (dict,),
    "any": (object,),
}


DEFAULT_MAX_LEN = {"str": 4096, "bytes": 1 << 20, "text": 1 << 20, "list": 1024, "map": 256}
DEFAULT_MAX_NUMBER = 1e9  # no count, size or number of seconds a caller needs is larger


class Param:
    """One named parameter: its kind (a key of _KIND_TYPES), whether required, a doc line, and
    the rules its values obey (checked at the door, before any handler runs).

    Numbers are finite and within [minimum, maximum]; strings, bytes, lists and maps are at most
    ``max_len`` long (a list's items are strings of at most 4096 characters unless
    ``items`` says otherwise: a kind, or a Param its items obey); ``choices`` lists the only
    values allowed; a string matches ``pattern`` (a regular expression, whole) if one is given.
    """

    __slots__ = (
        "choices",
        "doc",
        "items",
        "kind",
        "max_len",
        "maximum",
        "minimum",
        "name",
        "pattern",
        "required",
    )

    def __init__(
        self,
        name: str,
        kind: str,
        doc: str,
        required: bool = False,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        max_len: int | None = None,
        choices: tuple[str, ...] | None = None,
        items: str | Param = "str",
        pattern: str | None = None,
    ) -> None:
        self.name, self.kind, self.doc, self.required = name, kind, doc, required
        numeric = kind in ("int", "float")
        self.minimum = minimum
        self.maximum = maximum if maximum is not None or not numeric else DEFAULT_MAX_NUMBER
        if numeric and self.minimum is None:
            self.minimum = -DEFAULT_MAX_NUMBER
        self.max_len = max_len if max_len is not None else DEFAULT_MAX_LEN.get(kind)
        self.choices, self.items, self.pattern = choices, items, pattern

    def rules(self) -> str:
        """The rules in words, for help text and errors."""
        parts = [self.kind]
        if self.choices:
            parts.append("one of " + ", ".join(self.choices))
        if self.kind in ("int", "float"):
            parts.append(f"{_number(self.minimum)}..{_number(self.maximum)}")
        elif self.max_len is not None:
            parts.append(f"at most {self.max_len} long")
        return ", ".join(parts)

    def check(self, method: str, value: Any) -> None:
        """Raise BAD_PARAMS unless ``value`` has this parameter's kind and obeys its rules."""
        types = _KIND_TYPES[self.kind]
        wrong_bool = isinstance(value, bool) and self.kind in ("int", "float")
        if wrong_bool or not isinstance(value, types):
            self._refuse(method, f"must be {self.kind}, not {type(value).__name__}")
        if isinstance(value, int | float):
            self._check_number(method, value)
        elif self.max_len is not None and isinstance(value, str | bytes | list | dict):
            if len(value) > self.max_len:
                self._refuse(method, f"is {len(value)} long; the limit is {self.max_len}")
            if isinstance(value, list):
                item = (
                    self.items
                    if isinstance(self.items, Param)
                    else Param(f"{self.name}[]", self.items, "")
                )
                for element in value:
                    item.check(method, element)
        if self.pattern is not None and isinstance(value, str):
            import re  # only here: most parameters have no pattern, and start-up counts

            if re.fullmatch(self.pattern, value) is None:
                self._refuse(method, f"must match {self.pattern}, not {quote_input(value)}")
        if self.choices is not None and value not in self.choices:
            self._refuse(
                method, f"must be one of {', '.join(self.choices)}, not {quote_input(value)}"
            )

    def _check_number(self, method: str, value: float) -> None:
        if value != value or value in (math.inf, -math.inf):
            self._refuse(method, f"must be a finite number, not {value}")
        if self.minimum is not None and value < self.minimum:
            self._refuse(method, f"must be at least {_number(self.minimum)}, not {value:g}")
        if self.maximum is not None and value > self.maximum:
            self._refuse(method, f"must be at most {_number(self.maximum)}, not {value:g}")

    def _refuse(self, method: str, problem: str) -> NoReturn:
        raise RpcError(ErrorCode.BAD_PARAMS, f"`{method}`: parameter `{self.name}` {problem}")


def _number(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


class Cli:
    """The `jsctl` command that presents a row to a person: its name, the module under
    ``jsctl_clients.cli`` holding its click command (attribute: the name with ``_`` for ``-``,
    unless given), and its one-line help (default: the row's doc)."""

    __slots__ = ("attribute", "help", "module", "name")

    def __init__(self, name: str, module: str, help: str = "", attribute: str = "") -> None:
        self.name, self.module, self.help = name, module, help
        self.attribute = attribute or name.replace("-", "_")


class Method:
    """A row of the method table: everything front ends and the daemon need to know."""

    __slots__ = (
        "_names",
        "cli",
        "doc",
        "every_client",
        "name",
        "params",
        "permission",
        "result",
        "retry_safe",
        "starts_daemon",
        "streams",
        "tools",
    )

    def __init__(
        self,
        name: str,
        doc: str,
        params: tuple[Param, ...] = (),
        result: str = "",
        permission: Permission = Permission.HUMAN,
        starts_daemon: bool = True,  # may a client auto-start the daemon to call this?
        # Pushes {stream, data} frames before the final reply: always (True) or only when the
        # boolean parameter of that name is set ("stream", "follow").
        streams: bool | str = False,
        *,
        # The agent tool groups (`jsctl client create --tools`) whose clients may call this.
        tools: tuple[str, ...] = (),
        # May a client repeat the call when the daemon went away mid-call? Reads may; a call
        # that changes something only when the row says so.
        retry_safe: bool | None = None,
        # The `jsctl` command(s) presenting it (help defaults to ``doc``).
        cli: Cli | tuple[Cli, ...] = (),
        # May every agent client call it, whatever tool groups it was limited to?
        every_client: bool = False,
    ) -> None:
        self.name, self.doc, self.params, self.result = name, doc, params, result
        self.permission, self.starts_daemon, self.streams = permission, starts_daemon, streams
        self.tools = tools
        self.cli = (cli,) if isinstance(cli, Cli) else cli
        self.every_client = every_client
        self.retry_safe = (
            permission in (Permission.PUBLIC, Permission.READ) if retry_safe is None else retry_safe
        )
        self._names = frozenset(param.name for param in params)

    def __repr__(self) -> str:
        return f"Method({self.name!r})"

    def streams_with(self, params: Mapping[str, Any]) -> bool:
        """Whether a call with these params pushes frames (and so runs beside other calls)."""
        if isinstance(self.streams, str):
            return bool(params.get(self.streams))
        return self.streams

    def check_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validated params (None values dropped); BAD_PARAMS names the first problem."""
        if not self._names.issuperset(params):
            unknown = sorted(quote_input(name) for name in set(params) - self._names)
            known = [param.name for param in self.params]
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"`{self.name}` does not take {', '.join(unknown[:5])}; "
                f"it takes {', '.join(known) or 'no parameters'}",
            )
        checked: dict[str, Any] = {}
        for param in self.params:
            value = params.get(param.name)
            if value is None:
                if param.required:
                    raise RpcError(
                        ErrorCode.BAD_PARAMS, f"`{self.name}` needs parameter `{param.name}`"
                    )
                continue
            param.check(self.name, value)
            checked[param.name] = value
        return checked
