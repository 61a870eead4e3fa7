"""The `jsctl` console script: shell completion takes a fast path that never imports click."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Dispatch to completion (fast path) or the click CLI."""
    if "_JSCTL_COMPLETE" in os.environ:
        from .completion import complete_main

        sys.exit(complete_main())
    from .cli import main as cli_main

    cli_main()
