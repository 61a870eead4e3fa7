"""The `jsctl` command line (click): a thin view of the daemon's method table."""

from ._app import jsctl, main

__all__ = ["jsctl", "main"]
