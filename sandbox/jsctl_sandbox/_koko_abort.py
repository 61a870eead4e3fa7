"""Drop an ASGI WebSocket connection the way a crashed/killed KoKo does: no close frame.

ASGI has no "abort" message: returning from the app or raising makes hypercorn send a
1011 close frame, and ``websocket.close`` sends a proper one. So we find this
process's TCP socket whose addresses match the scope's ``client``/``server`` and shut
it down; the peer then sees the stream end without a close frame (code 1006), and the
server notices EOF and delivers ``websocket.disconnect`` to the app as usual.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Mapping
from typing import Any

__all__ = ["abort_connection"]


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, (tuple, list)) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


def _matching_socket(fd: int, client: tuple[str, int], server: tuple[str, int]) -> bool:
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        # A duplicate: closing it later leaves the server's own descriptor alone.
        with socket.socket(fileno=os.dup(fd)) as sock:
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                return False
            return _address(sock.getpeername()) == client and _address(sock.getsockname()) == server
    except OSError:
        return False


def abort_connection(scope: Mapping[str, Any]) -> bool:
    """Shut down the TCP connection that carries ``scope``; False if it was not found."""
    client, server = _address(scope.get("client")), _address(scope.get("server"))
    if client is None or server is None:
        return False
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if not _matching_socket(fd, client, server):
            continue
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
        return True
    return False
