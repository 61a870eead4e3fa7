"""`jsctl demo`: see the whole thing work against the bundled sandbox in a minute."""

from __future__ import annotations

import click


@click.command()
@click.option("--keep", is_flag=True, help="Leave the demo's sandbox and daemon running.")
def demo(keep: bool) -> None:
    """Start a sandbox, log in with MFA, list assets, exec, detach and reattach a shell."""
    from ..demo import run_demo
    from ._extras import require_sandbox

    require_sandbox()

    run_demo(keep)
