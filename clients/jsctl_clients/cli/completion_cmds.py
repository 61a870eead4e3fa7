"""`jsctl completion bash|zsh|fish`: print the shell's completion script."""

from __future__ import annotations

import click

from .._completion_scripts import ENABLE, SCRIPTS

_ENABLE_HELP = "\n".join(f"  {line}" for line in ENABLE.values())


@click.command(
    epilog=f"Enable it once in your shell's start-up file:\n\n\b\n{_ENABLE_HELP}",
)
@click.argument("shell", type=click.Choice(sorted(SCRIPTS)))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (commands, flags, assets, sessions, profiles)."""
    from ..completion import kept_spec

    kept_spec()  # derive the spec now, so the first TAB press does not pay for it
    click.echo(SCRIPTS[shell], nl=False)
