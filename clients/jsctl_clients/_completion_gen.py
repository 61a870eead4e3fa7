"""Build the static completion spec from the click command tree (not per TAB: the spec is kept
by `_views` until a command module or the method table changes, see `completion.kept_spec`).
"""

from __future__ import annotations

import click

from ._completion_types import ArgRow, CommandRow, OptionRow, Spec
from .cli._app import commands

# What a parameter names, by its click name; the daemon completes these kinds from its cache.
KIND_BY_NAME = {
    "ref": "asset",
    "asset": "asset",
    "account": "account",
    "session": "session",
    "sessions_": "session",
    "profile": "profile",
    "client": "client",
    "node": "node",
    "allow": "asset",
}
# Parameters whose name alone does not say what they are: (command path, param name) -> kind.
KIND_BY_PATH = {
    ("profile use", "name"): "profile",
    ("profile rm", "name"): "profile",
    ("client revoke", "name"): "client",
    ("client show", "name"): "client",
    ("logs", "target"): "session",
    ("interrupt", "target"): "session",
}


def _kind(path: str, param: click.Parameter) -> tuple[str, tuple[str, ...]]:
    """The completion kind of a parameter, and its fixed choices if it has any."""
    name = param.name or ""
    if isinstance(param.type, click.Choice):
        return "choice", tuple(str(choice) for choice in param.type.choices)
    if isinstance(param.type, click.Path):
        return ("dir" if param.type.dir_okay and not param.type.file_okay else "file"), ()
    if isinstance(param.type, click.File):
        return "file", ()
    return KIND_BY_PATH.get((path, name)) or KIND_BY_NAME.get(name, ""), ()


def _command_row(path: str, command: click.Command, ctx: click.Context) -> CommandRow:
    options: dict[str, OptionRow] = {}
    args: list[ArgRow] = []
    for param in command.get_params(ctx):
        kind, choices = _kind(path, param)
        if isinstance(param, click.Option):
            if param.hidden:
                continue
            takes_value = not (param.is_flag or param.count)
            row: OptionRow = (takes_value, kind if takes_value else "", choices, param.help or "")
            for flag in (*param.opts, *param.secondary_opts):
                options[flag] = row
        elif isinstance(param, click.Argument):
            args.append((param.name or "", kind, choices, param.nargs))
    subcommands: dict[str, str] = {}
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                table_help = commands().get(name, ("", "", ""))[2] if not path else ""
                subcommands[name] = table_help or sub.get_short_help_str(limit=80)
    return subcommands, options, tuple(args)


def build_spec(root: click.Command | None = None) -> Spec:
    """Every command path ("" for the root, "daemon start", ...) with its options and args."""
    if root is None:
        from .cli import jsctl as root
    assert root is not None
    spec: Spec = {}

    def walk(path: str, command: click.Command, parent: click.Context | None) -> None:
        ctx = click.Context(command, info_name=path.rsplit(" ", 1)[-1] or "jsctl", parent=parent)
        spec[path] = _command_row(path, command, ctx)
        if isinstance(command, click.Group):
            for name in spec[path][0]:
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(f"{path} {name}".strip(), sub, ctx)

    walk("", root, None)
    return spec
