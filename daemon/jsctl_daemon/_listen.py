"""The daemon's listening socket: lock, private directory, stale cleanup, adoption, peer uid."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import logging
import os
import socket
import stat
import struct
import sys
from pathlib import Path

log = logging.getLogger(__name__)

SD_LISTEN_FDS_START = 3


class ListenError(Exception):
    """The daemon cannot listen; the message says why and what to do."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` as 0700 if missing; refuse one that others own or can enter."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise ListenError(
            f"{path} belongs to uid {info.st_uid}, not you; remove it or set JSCTL_SOCKET"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)


def acquire_lock(lock_file: Path) -> int:
    """Hold an exclusive lock for this socket for the daemon's lifetime; returns the fd."""
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise ListenError(
                f"another jsctl daemon (pid {holder}) already serves this socket; "
                "`jsctl daemon stop` first"
            ) from None
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def bind_socket(path: Path) -> socket.socket:
    """A fresh listening Unix socket at ``path`` (0600), replacing a stale one.

    The caller holds the lock, so whatever socket file is there was left by a crash.
    """
    ensure_private_dir(path.parent)
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ListenError(f"{path} exists and is not a socket; move it away")
        path.unlink()
        log.info("removed stale socket %s", path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket is born 0600: no window where others may connect
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot bind {path}: {exc.strerror}") from exc
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(128)
    return sock


def inherited_socket(env: dict[str, str] | None = None) -> socket.socket | None:
    """The listening socket a service manager handed us (systemd or launchd), if any."""
    env = dict(os.environ) if env is None else env
    if env.get("LISTEN_FDS") and env.get("LISTEN_PID") == str(os.getpid()):
        count = int(env["LISTEN_FDS"])
        if count < 1:
            return None
        for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)  # not for our children
        sock = socket.socket(fileno=SD_LISTEN_FDS_START)
        if sock.family != socket.AF_UNIX:
            raise ListenError("the service manager passed a socket that is not a Unix socket")
        log.info("adopted listening socket from systemd (fd %d)", SD_LISTEN_FDS_START)
        return sock
    if sys.platform == "darwin" and env.get("JSCTL_LAUNCHD_SOCKET"):
        return _launchd_socket(env["JSCTL_LAUNCHD_SOCKET"])
    return None


def _launchd_socket(name: str) -> socket.socket:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    fds = ctypes.POINTER(ctypes.c_int)()
    count = ctypes.c_size_t()
    err = libc.launch_activate_socket(name.encode(), ctypes.byref(fds), ctypes.byref(count))
    if err != 0 or count.value < 1:
        raise ListenError(f"launchd has no socket named {name!r} for us (error {err})")
    fd = fds[0]
    libc.free(fds)
    log.info("adopted listening socket %r from launchd", name)
    return socket.socket(fileno=fd)


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket, or None if unknown."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    if sys.platform == "darwin":
        sol_local, local_peercred = 0, 1  # <sys/un.h>; struct xucred: u_int version, uid_t uid
        creds = sock.getsockopt(sol_local, local_peercred, struct.calcsize("2I") + 2 + 16 * 4)
        _version, uid = struct.unpack_from("2I", creds)
        return int(uid)
    return None
