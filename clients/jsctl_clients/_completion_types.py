"""The shape of the static completion spec (plain tuples, so loading it imports nothing)."""

from __future__ import annotations

# (takes_value, kind, choices, help); kind: "" (free text), asset, account, session, profile,
# client, node, file, dir or choice.
OptionRow = tuple[bool, str, tuple[str, ...], str]
# (name, kind, choices, nargs); nargs -1 takes every remaining word.
ArgRow = tuple[str, str, tuple[str, ...], int]
# (subcommands {name: one-line help}, options {flag: row}, positional args in order)
CommandRow = tuple[dict[str, str], dict[str, OptionRow], tuple[ArgRow, ...]]
# command path ("" for `jsctl` itself, "daemon start", ...) -> row
Spec = dict[str, CommandRow]
