"""A sandbox that survives restarts: users, secrets, TOTP, access keys, sessions, CA and port.

With a data directory (``--data-dir DIR``, or ``--persist`` for the default one under jsctl's
state dir) the sandbox writes ``sandbox-state.json`` (0600) at start and at shutdown, and the
next start reads it back, so a saved ``jsctl login`` profile keeps working. The TLS files in
``DIR/tls`` are reused as they are.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import trio

from ._model import AccessKey
from ._sessions import Session
from ._state import SandboxState

STATE_FILE = "sandbox-state.json"
LOCK_FILE = ".lock"
FORMAT = 1
SAVE_EVERY_S = 10.0  # so a killed sandbox loses at most this much (keys, sessions)


class InUse(Exception):
    """Another sandbox runs on this data directory."""


@contextlib.contextmanager
def exclusive(data_dir: Path | None) -> Iterator[None]:
    """Hold the data directory's lock while the sandbox runs (None: nothing to lock)."""
    if data_dir is None:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InUse(
                f"another sandbox is running on {data_dir}; stop it, or pass --data-dir DIR "
                "(or --ephemeral) for a second one"
            ) from None
        yield
    finally:
        os.close(fd)


async def save_every(state: SandboxState, port: int) -> None:
    """Save the state every few seconds (a clean stop saves once more)."""
    while True:
        await trio.sleep(SAVE_EVERY_S)
        save(state, port)


def default_data_dir() -> Path:
    """``<jsctl state dir>/sandbox`` (JSCTL_HOME / JSCTL_STATE_DIR / platformdirs)."""
    from jsctl_paths import Paths

    return Paths.from_env().state_dir / "sandbox"


def load(data_dir: Path) -> dict[str, Any] | None:
    """The saved state, or None for a first start; ValueError for a broken file."""
    path = data_dir / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc} (move it away to start afresh)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a sandbox state file (move it away to start afresh)")
    return data


def apply(state: SandboxState, saved: dict[str, Any]) -> None:
    """Put the saved secrets, keys and sessions back into a freshly built state."""
    users = saved.get("users") or {}
    for user in state.directory.users.values():
        known = users.get(user.username)
        if not isinstance(known, dict):
            continue
        user.password = str(known["password"])
        user.totp_secret = known.get("totp_secret")
        user.mfa_level = int(known.get("mfa_level", 1 if user.totp_secret else 0))
        user.need_update_password = bool(known.get("need_update_password", False))
        user.access_keys = [AccessKey(**key) for key in known.get("access_keys", [])]
    if saved.get("control_token"):
        state.control_token = str(saved["control_token"])
    now = state.clock.now()
    for key, item in (saved.get("sessions") or {}).items():
        session = Session(key, int(item["age"]), dict(item["data"]), float(item["saved_at"]))
        if now < session.saved_at + session.age:
            state.sessions.restore(session)


def save(state: SandboxState, port: int) -> None:
    """Write the state file atomically, readable by the owner only."""
    users = {
        user.username: {
            "password": user.password,
            "totp_secret": user.totp_secret,
            "mfa_level": user.mfa_level,
            "need_update_password": user.need_update_password,
            "access_keys": [vars(key) for key in user.access_keys],
        }
        for user in state.directory.users.values()
    }
    sessions = {
        s.key: {"age": s.age, "data": s.data, "saved_at": s.saved_at}
        for s in state.sessions.live()
        if s.key is not None
    }
    data = {
        "format": FORMAT,
        "port": port,
        "control_token": state.control_token,
        "users": users,
        "sessions": sessions,
    }
    target = state.data_dir / STATE_FILE
    fd, tmp = tempfile.mkstemp(dir=state.data_dir, prefix=".state-")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, default=str)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def login_command(url: str, ca_file: Path | None, username: str) -> str:
    """The exact `jsctl login` line for this sandbox."""
    tls = f" --ca-file {ca_file}" if ca_file else ""
    return f"jsctl login --url {url} --username {username}{tls}"
