"""Command line of `python -m jsctl_sandbox`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._data import MAX_GENERATED_ASSETS
from ._state import DEFAULT_SERVER_VERSION, SandboxOptions


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m jsctl_sandbox",
        description="A JumpServer-compatible server on loopback whose assets are local shells.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    p.add_argument(
        "--port",
        type=int,
        help="port (0 = pick a free one; default: the saved one of a persistent sandbox, else 0)",
    )
    p.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument(
        "--data-dir",
        type=Path,
        help="keep users, secrets, TOTP, access keys, sessions, CA and port here across restarts "
        "(default: a temporary directory removed at exit)",
    )
    p.add_argument(
        "--persist",
        action="store_true",
        help="persistent, in the default data directory (<jsctl state dir>/sandbox)",
    )
    p.add_argument(
        "--ephemeral",
        action="store_true",
        help="a temporary data directory removed at exit (the default without --persist)",
    )
    p.add_argument("--config", type=Path, help="TOML file with users, assets, permissions")
    p.add_argument(
        "--assets",
        type=int,
        default=0,
        metavar="N",
        help=f"add N generated assets (up to {MAX_GENERATED_ASSETS})",
    )
    p.add_argument("--json", action="store_true", help="print one JSON line with the details")
    p.add_argument("--server-version", default=DEFAULT_SERVER_VERSION, help="version to imitate")
    p.add_argument("--session-age", type=int, default=86400, help="web session lifetime (s)")
    p.add_argument("--idle-timeout", type=float, help="KoKo idle cut-off in seconds")
    p.add_argument(
        "--throttle",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="DRF rate limits (default: on for versions that have them)",
    )
    p.add_argument("--cookie-prefix", default="jms_", help="SESSION_COOKIE_NAME_PREFIX")
    p.add_argument(
        "--reusable-tokens",
        action="store_true",
        help="enable CONNECTION_TOKEN_REUSABLE (reusable connection tokens)",
    )
    p.add_argument(
        "--strict-referer",
        action="store_true",
        help="refuse cookie-authenticated HTTPS POSTs without a same-site Referer, as JumpServer "
        "does behind a proxy that sets X-Forwarded-Proto (a stock server does not)",
    )
    return p


def options_from_args(argv: list[str] | None = None) -> SandboxOptions:
    """Parse ``argv`` into SandboxOptions."""
    args = parser().parse_args(argv)
    return SandboxOptions(
        host=args.host,
        port=args.port,
        http=args.http,
        data_dir=args.data_dir,
        config=args.config,
        assets=args.assets,
        json=args.json,
        server_version=args.server_version,
        session_age=args.session_age,
        idle_timeout=args.idle_timeout,
        throttle=args.throttle,
        allow_remote=args.allow_remote,
        cookie_prefix=args.cookie_prefix,
        connection_token_reusable=args.reusable_tokens,
        strict_referer=args.strict_referer,
        persist=args.persist and not args.ephemeral,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    from .server import run

    return run(options_from_args(argv))
