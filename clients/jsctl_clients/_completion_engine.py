"""Decide what a command line wants completed, from the static spec alone (no I/O).

Imports nothing beyond the spec's plain literals, so a TAB press pays only for Python itself.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not from typing: importing typing costs more than this whole module
if TYPE_CHECKING:
    from ._completion_types import CommandRow, OptionRow, Spec

DAEMON_KINDS = frozenset({"asset", "account", "session", "profile", "client", "node"})
_NO_COMMAND: CommandRow = ({}, {}, ())


class Want:
    """What to offer for the word under the cursor.

    ``static`` holds (value, help) pairs; ``kind`` names candidates to fetch (a DAEMON_KINDS
    member, or "file"/"dir" for the shell's own path completion); ``prefix`` is the part of the
    word the candidates must start with, ``lead`` the part before it (``--profile=``), and
    ``context`` what the line already says (``asset``, ``profile``) for the daemon's query.
    """

    __slots__ = ("context", "kind", "lead", "prefix", "static")

    def __init__(
        self,
        static: list[tuple[str, str]] | None = None,
        kind: str = "",
        prefix: str = "",
        lead: str = "",
        context: dict[str, str] | None = None,
    ) -> None:
        self.static = static or []
        self.kind, self.prefix, self.lead = kind, prefix, lead
        self.context = context or {}

    def __repr__(self) -> str:
        return f"Want(static={self.static!r}, kind={self.kind!r}, prefix={self.prefix!r})"


class _Line:
    """The words before the cursor, parsed against the spec like click would parse them."""

    def __init__(self, spec: Spec, words: list[str]) -> None:
        self.path = ""
        self.row = spec.get("", _NO_COMMAND)
        self.positionals: list[str] = []
        self.seen: dict[str, str] = {}  # kind -> first value given (asset, profile, ...)
        self.pending: OptionRow | None = None  # an option still waiting for its value
        self.only_args = False
        for word in words:
            self._take(spec, word)

    def _note(self, kind: str, value: str) -> None:
        if kind and value:
            self.seen.setdefault(kind, value)

    def _take(self, spec: Spec, word: str) -> None:
        if self.pending is not None:
            self._note(self.pending[1], word)
            self.pending = None
        elif word == "--" and not self.only_args:
            self.only_args = True
        elif word.startswith("-") and word != "-" and not self.only_args:
            flag, equals, value = word.partition("=")
            option = self.row[1].get(flag)
            if option is not None and option[0]:
                if equals:
                    self._note(option[1], value)
                else:
                    self.pending = option
        elif self.row[0] and not self.positionals and word in self.row[0]:
            self.path = f"{self.path} {word}".strip()
            self.row = spec.get(self.path, _NO_COMMAND)
        else:
            self.positionals.append(word)
            self._note(self.arg_kind(len(self.positionals) - 1)[0], word)

    def arg_kind(self, index: int) -> tuple[str, tuple[str, ...]]:
        """The kind and choices of the ``index``-th positional word of the current command."""
        position = 0
        for _name, kind, choices, nargs in self.row[2]:
            if nargs < 0 or index < position + nargs:
                return kind, choices
            position += nargs
        return "", ()


def analyse(spec: Spec, words: list[str], current: str) -> Want:
    """What to complete for ``current``, the word under the cursor, after ``words``."""
    line = _Line(spec, words)
    if line.pending is not None:
        return _value(line, line.pending[1], line.pending[2], current)
    if current.startswith("-") and not line.only_args:
        flag, equals, value = current.partition("=")
        if equals:
            option = line.row[1].get(flag)
            if option is None or not option[0]:
                return Want()
            return _value(line, option[1], option[2], value, lead=f"{flag}=")
        options = line.row[1]
        return Want(sorted((f, o[3]) for f, o in options.items() if f.startswith(current)))
    if line.row[0] and not line.positionals:
        names = line.row[0]
        return Want(sorted((n, h) for n, h in names.items() if n.startswith(current)))
    kind, choices = line.arg_kind(len(line.positionals))
    return _value(line, kind, choices, current)


def _value(line: _Line, kind: str, choices: tuple[str, ...], prefix: str, lead: str = "") -> Want:
    if choices:
        return Want([(c, "") for c in choices if c.startswith(prefix)], prefix=prefix, lead=lead)
    if kind in DAEMON_KINDS:
        context: dict[str, str] = {k: line.seen[k] for k in ("profile", "asset") if k in line.seen}
        if kind != "account":
            context.pop("asset", None)
        return Want(kind=kind, prefix=prefix, lead=lead, context=context)
    if kind in ("file", "dir"):
        return Want(kind=kind, prefix=prefix, lead=lead)
    return Want(prefix=prefix, lead=lead)


def join_equals(words: list[str]) -> list[str]:
    """Undo bash's split of ``--opt=value`` into ``--opt``, ``=``, ``value`` (COMP_WORDBREAKS)."""
    joined: list[str] = []
    for word in words:
        last = joined[-1] if joined else ""
        opens_value = word == "=" and "=" not in last  # `--opt` `=`
        fills_value = last.endswith("=") and last.count("=") == 1  # `--opt=` `value`
        if last.startswith("--") and (opens_value or fills_value):
            joined[-1] += word
        else:
            joined.append(word)
    return joined
