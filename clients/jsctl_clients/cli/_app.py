"""The root `jsctl` group: lazy subcommands (a view of the method table), the global --json flag,
errors and exit codes."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from jsctl_paths import Paths
from jsctl_protocol import ErrorCode, RpcError

from ..rpc import DaemonClient, DaemonUnreachable

EXIT_OK, EXIT_FAILED, EXIT_UNREACHABLE = 0, 1, 2


def commands() -> dict[str, tuple[str, str, str]]:
    """name -> (module under jsctl_clients.cli, attribute, one-line help): a view of the method
    table's `cli=` declarations and the client-only commands, kept until a source changes."""
    from .._views import commands_sources, load

    return load("commands", _build_commands, commands_sources())  # type: ignore[return-value]


def _build_commands() -> object:
    from ._commands import build_commands

    return build_commands()


F = TypeVar("F", bound=Callable[..., Any])


def _token() -> str | None:
    """An agent's client token from $JSCTL_CLIENT_TOKEN: then jsctl acts as that client."""
    return os.environ.get("JSCTL_CLIENT_TOKEN") or None


class Runtime:
    """What every command shares: output mode and a lazily opened daemon connection."""

    def __init__(self) -> None:
        self.json = False
        self.paths = Paths.from_env()
        self._client: DaemonClient | None = None

    @property
    def tables(self) -> bool:
        """Whether listings print as tables: at a terminal, unless --json (JSCTL_OUTPUT forces)."""
        forced = os.environ.get("JSCTL_OUTPUT")
        if self.json or forced == "json":
            return False
        return forced == "table" or sys.stdout.isatty()

    def client(self, autostart: bool = True) -> DaemonClient:
        """The daemon connection, starting the daemon if allowed."""
        if self._client is None:
            self._client = DaemonClient.connect(self.paths, autostart=autostart, token=_token())
        return self._client

    def call(self, method: str, **params: Any) -> Any:
        """Call a daemon method, auto-starting the daemon when the method table allows it."""
        if self._client is None:
            try:
                self._client = DaemonClient.connect(self.paths, autostart=False, token=_token())
            except DaemonUnreachable:
                from jsctl_protocol import METHODS  # only now: the table costs start-up time

                row = METHODS.get(method)
                if row is not None and not row.starts_daemon:
                    raise
                self._client = DaemonClient.connect(self.paths, autostart=True, token=_token())
        return self._client.call(method, **params)

    def emit(self, data: Any, human: Callable[[Any], None] | None = None) -> None:
        """Print ``data`` as JSON (--json, or no human form), else with ``human``."""
        if self.json or human is None:
            import json

            click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        else:
            human(data)

    def close(self) -> None:
        """Close the daemon connection, if any."""
        if self._client is not None:
            self._client.close()


def runtime() -> Runtime:
    """The current command's Runtime."""
    return click.get_current_context().find_object(Runtime) or Runtime()


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Runtime).json = True


def json_option(function: F) -> F:
    """Add a per-command --json flag (the global `jsctl --json CMD` does the same)."""
    return click.option(
        "--json",
        "json_output",
        is_flag=True,
        expose_value=False,
        callback=_set_json,
        help="Print JSON.",
    )(function)


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when used."""

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, tuple[str, str, str]] | Callable[[], dict[str, tuple[str, str, str]]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._load = lazy

    @property
    def _lazy(self) -> dict[str, tuple[str, str, str]]:
        """name -> (module, attribute, help); a callable is asked once, on first use."""
        if callable(self._load):
            self._load = self._load()
        return self._load

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attribute, _help = self._lazy[cmd_name]
            module = importlib.import_module(f"jsctl_clients.cli.{module_name}")
            command: click.Command = getattr(module, attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self._lazy[name][2]) for name in sorted(self._lazy)]
        for name in super().list_commands(ctx):
            command = super().get_command(ctx, name)
            if command is not None and name not in self._lazy:
                rows.append((name, command.get_short_help_str()))
        rows.sort()
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=commands,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--json", "json_output", is_flag=True, help="Print JSON for every command.")
@click.version_option("0.1.0", prog_name="jsctl")
@click.pass_context
def jsctl(ctx: click.Context, json_output: bool) -> None:
    """Durable terminal access to servers behind a JumpServer bastion, over HTTPS only."""
    rt = ctx.ensure_object(Runtime)
    rt.json = rt.json or json_output
    ctx.call_on_close(rt.close)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print `jsctl: message` to stderr and exit with ``code``."""
    click.echo(f"jsctl: {message}", err=True)
    sys.exit(code)


def main() -> None:
    """Run the CLI, turning daemon errors into one sentence and a meaningful exit code."""
    try:
        jsctl.main(prog_name="jsctl", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except DaemonUnreachable as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    except RpcError as exc:
        code = EXIT_UNREACHABLE if exc.code == ErrorCode.VERSION_MISMATCH else EXIT_FAILED
        fail(exc.message, code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(EXIT_FAILED)
