"""Optional parts of the install: the sandbox's web server stack is the `jsctl[sandbox]` extra."""

from __future__ import annotations

import importlib.util

import click

# The modules the sandbox (and so the demo) needs beyond a production install.
SANDBOX_MODULES = ("hypercorn", "starlette", "trustme", "PIL", "pyotp")


def require_sandbox() -> None:
    """Refuse, in one line, when the sandbox's extra is not installed."""
    missing = [m for m in SANDBOX_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise click.ClickException(
            f"the sandbox needs the jsctl[sandbox] extra (missing: {', '.join(missing)}); "
            "install it with: pip install 'jsctl[sandbox]'"
        )
