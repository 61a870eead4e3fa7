"""Runs the sandbox: TLS material, hypercorn on trio, the startup announcement, shutdown."""

from __future__ import annotations

import ipaddress
import json
import logging
import shutil
import signal
import socket
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pyotp
import trio
import trustme
from hypercorn.config import Config
from hypercorn.trio import serve

from . import _persist
from ._data import build_directory, load_config
from ._state import SandboxOptions, SandboxState
from .app import build_app

log = logging.getLogger("jsctl_sandbox")


class SandboxError(Exception):
    """A startup problem explained in one sentence."""


def _check_host(options: SandboxOptions) -> None:
    try:
        loopback = ipaddress.ip_address(options.host).is_loopback
    except ValueError:
        loopback = options.host == "localhost"
    if not loopback and not options.allow_remote:
        raise SandboxError(
            f"refusing to listen on {options.host}: the sandbox binds to loopback only "
            "unless --allow-remote is given"
        )


def write_tls(data_dir: Path, *, reuse: bool = False) -> tuple[Path, Path, Path]:
    """Create a CA and a leaf for 127.0.0.1/localhost; returns (ca, cert chain, key) paths.

    With ``reuse`` (a persistent sandbox) files from an earlier run are kept as they are.
    """
    tls = data_dir / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = tls / "ca.pem", tls / "server.pem", tls / "server.key"
    if reuse and ca_file.is_file() and cert_file.is_file() and key_file.is_file():
        return ca_file, cert_file, key_file
    ca = trustme.CA(organization_name="jsctl sandbox")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca_file, cert_file, key_file = tls / "ca.pem", tls / "server.pem", tls / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    leaf.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


def _port_free(host: str, port: int) -> bool:
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError:
        return False
    return True


def _port(options: SandboxOptions, saved: dict[str, Any] | None) -> int:
    if options.port is not None:
        return options.port
    port = int(saved.get("port") or 0) if saved else 0
    if port and not _port_free(options.host, port):
        log.warning("the saved port %d is in use; taking another (log in again)", port)
        return 0
    return port


def prepare(
    options: SandboxOptions, *, persistent: bool = False
) -> tuple[SandboxState, Config, Path | None]:
    """Build the state and the hypercorn config (without starting anything)."""
    _check_host(options)
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="jsctl-sandbox-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    if persistent:
        data_dir.chmod(0o700)
    state = SandboxState(options=options, directory=_directory(options), data_dir=data_dir)
    saved = None
    if persistent:
        try:
            saved = _persist.load(data_dir)
        except ValueError as exc:
            raise SandboxError(str(exc)) from None
        if saved is not None:
            try:
                _persist.apply(state, saved)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise SandboxError(
                    f"{data_dir / _persist.STATE_FILE} is damaged ({exc!r}); move it away to "
                    "start afresh"
                ) from None
    config = Config()
    config.bind = [f"{options.host}:{_port(options, saved)}"]
    config.include_server_header = False
    config.graceful_timeout = 2.0
    config.accesslog = None
    config.loglevel = "WARNING"
    ca_file = None
    if not options.http:
        ca_file, cert_file, key_file = write_tls(data_dir, reuse=persistent)
        config.certfile, config.keyfile = str(cert_file), str(key_file)
    return state, config, ca_file


def _directory(options: SandboxOptions) -> Any:
    from ._clock import Clock

    return build_directory(load_config(options.config), options.assets, Clock().now())


def announcement(state: SandboxState, url: str, ca_file: Path | None) -> dict[str, Any]:
    """The --json line."""
    return {
        "url": url,
        "ca_file": str(ca_file) if ca_file else None,
        "users": [
            {
                "username": u.username,
                "password": u.password,
                "totp_secret": u.totp_secret,
                "is_superuser": u.is_superuser,
            }
            for u in state.directory.users.values()
        ],
        "control_token": state.control_token,
        "data_dir": str(state.data_dir),
        "version": state.options.server_version,
    }


def summary(info: dict[str, Any], *, persistent: bool = False) -> str:
    """The friendly startup text for people."""
    lines = [
        f"JumpServer sandbox (imitating v{info['version']}) at {info['url']}",
        f"  CA certificate: {info['ca_file']}" if info["ca_file"] else "  plain HTTP (no TLS)",
        f"  data directory: {info['data_dir']}",
        "  users:",
    ]
    for user in info["users"]:
        role = " (superuser)" if user["is_superuser"] else ""
        lines.append(f"    {user['username']} / {user['password']}{role}")
        if user["totp_secret"]:
            uri = pyotp.TOTP(user["totp_secret"]).provisioning_uri(
                name=user["username"], issuer_name="JumpServer sandbox"
            )
            lines.append(f"      TOTP secret {user['totp_secret']}  ({uri})")
    ca_file = Path(info["ca_file"]) if info["ca_file"] else None
    first = info["users"][0]["username"] if info["users"] else "admin"
    lines.append(f"Log in with:  {_persist.login_command(info['url'], ca_file, first)}")
    if persistent:
        lines.append("  (users, secrets, CA and port are kept for the next start)")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


async def _serve(options: SandboxOptions, persistent: bool) -> None:
    state, config, ca_file = prepare(options, persistent=persistent)
    app = build_app(state)
    stop = trio.Event()
    # Signals are received before the announcement, so an early Ctrl-C still exits cleanly.
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:

        async def watch_signals() -> None:
            async for _ in signals:
                stop.set()
                return

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_signals)
            binds: list[str] = await nursery.start(
                lambda task_status: serve(
                    cast(Any, app), config, shutdown_trigger=stop.wait, task_status=task_status
                )
            )
            scheme, _, address = binds[0].partition("://")
            port = address.rsplit(":", 1)[1]
            host = options.host if options.host not in ("0.0.0.0", "::") else "127.0.0.1"
            info = announcement(state, f"{scheme}://{host}:{port}", ca_file)
            text = json.dumps(info) if options.json else summary(info, persistent=persistent)
            if persistent:
                _persist.save(state, int(port))
                nursery.start_soon(_persist.save_every, state, int(port))
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            await stop.wait()
            if persistent:
                _persist.save(state, int(port))
            nursery.cancel_scope.deadline = trio.current_time() + config.graceful_timeout + 5


def run(options: SandboxOptions) -> int:
    """Serve until Ctrl-C or SIGTERM; returns the process exit code."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="sandbox: %(message)s")
    temporary = options.data_dir is None and not options.persist
    if options.persist and options.data_dir is None:
        options = replace(options, data_dir=_persist.default_data_dir())
    if temporary:  # a fresh temp dir is removed again at exit
        options = replace(options, data_dir=Path(tempfile.mkdtemp(prefix="jsctl-sandbox-")))
    try:
        with _persist.exclusive(options.data_dir if not temporary else None):
            trio.run(_serve, options, not temporary)
    except (SandboxError, _persist.InUse) as exc:
        print(f"jsctl sandbox: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        if temporary and options.data_dir is not None:
            shutil.rmtree(options.data_dir, ignore_errors=True)
    return 0
