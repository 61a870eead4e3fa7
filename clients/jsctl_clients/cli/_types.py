"""Click parameter types that obey the rules of a method-table parameter (one set of limits)."""

from __future__ import annotations

from typing import Any

import click


class TableNumber(click.ParamType[float]):
    """A number checked by the rules of ``method``'s parameter ``name`` (finite, in range)."""

    name = "number"

    def __init__(self, method: str, param_name: str) -> None:
        self._method, self._param_name = method, param_name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from jsctl_protocol import METHODS, RpcError  # the table is built only when used

        row = METHODS[self._method]
        rule = next(p for p in row.params if p.name == self._param_name)
        if isinstance(value, float | int):
            number: float = value
        else:
            try:
                number = int(value) if rule.kind == "int" else float(value)
            except ValueError:
                self.fail(f"{value!r} is not a number", param, ctx)
        try:
            rule.check(self._method, number)
        except RpcError as exc:
            self.fail(exc.message.split("` ", 2)[-1], param, ctx)
        return number
