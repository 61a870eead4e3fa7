"""Declarative pieces of the method table: parameters, permissions and method rows."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ._errors import ErrorCode, RpcError


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


class Param:
    """One named parameter: its kind (a key of _KIND_TYPES), whether required, and a doc line."""

    __slots__ = ("doc", "kind", "name", "required")

    def __init__(self, name: str, kind: str, doc: str, required: bool = False) -> None:
        self.name, self.kind, self.doc, self.required = name, kind, doc, required

    def check(self, method: str, value: Any) -> None:
        """Raise BAD_PARAMS unless ``value`` has this parameter's kind."""
        types = _KIND_TYPES[self.kind]
        wrong_bool = isinstance(value, bool) and self.kind in ("int", "float")
        if wrong_bool or not isinstance(value, types):
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"`{method}`: parameter `{self.name}` must be {self.kind}, "
                f"not {type(value).__name__}",
            )


class Method:
    """A row of the method table: everything front ends and the daemon need to know."""

    __slots__ = (
        "_names",
        "doc",
        "name",
        "params",
        "permission",
        "result",
        "starts_daemon",
        "streams",
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
    ) -> None:
        self.name, self.doc, self.params, self.result = name, doc, params, result
        self.permission, self.starts_daemon, self.streams = permission, starts_daemon, streams
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
            unknown = sorted(repr(name) for name in set(params) - self._names)
            known = [param.name for param in self.params]
            raise RpcError(
                ErrorCode.BAD_PARAMS,
                f"`{self.name}` does not take {', '.join(unknown)}; "
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
