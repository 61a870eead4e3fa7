"""`python -m jsctl_daemon`: run the per-user daemon in the foreground."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import trio

from jsctl_paths import Paths

from ._listen import ListenError
from ._logging import setup_logging
from .config import ConfigError
from .server import DaemonConfig, run_daemon
from .storage import StateCorrupt


def main(argv: list[str] | None = None) -> int:
    """Parse options and serve until stopped; exit 0 on a clean stop, 1 on failure."""
    parser = argparse.ArgumentParser(prog="jsctl-daemon", description=__doc__)
    parser.add_argument("--socket", type=Path, help="socket path (default: see `jsctl paths`)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--stderr", action="store_true", help="also log to stderr")
    args = parser.parse_args(argv)
    paths = Paths.from_env()
    if args.socket:
        paths = Paths(args.socket, paths.state_dir, paths.config_dir)
    setup_logging(paths.log_file, args.log_level, also_stderr=args.stderr)
    try:
        trio.run(run_daemon, DaemonConfig(paths))
    except (ListenError, ConfigError, StateCorrupt) as exc:
        logging.getLogger("jsctl_daemon").error("%s", exc)
        print(f"jsctl daemon: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
