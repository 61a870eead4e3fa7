"""Give back OpenSSL's record buffers of idle TLS connections (memory per idle terminal).

OpenSSL 3 allocates about 16 KiB of record buffers at a connection's first read and keeps them
while a read waits for data, although CPython asks it to release them
(``SSL_MODE_RELEASE_BUFFERS``): every idle KoKo terminal would hold them, 8 MiB for 500.
``SSL_free_buffers`` gives them back (it refuses while a record is half read; the next read
allocates them again). Python's ssl module does not expose it, so it is called through ctypes
on the connection's ``SSL *``, which CPython keeps right after the object header and the socket
reference of its ``_ssl._SSLSocket``. That layout is checked once on a fresh object, and the
handle is checked again at every use, by the app data CPython stores on it (the Python object
itself); on any mismatch, or without ctypes or libssl symbols, this does nothing.

:class:`ReleasingTransport`, the socket under a ``trio.SSLStream``, frees them each time the
TLS layer must wait for bytes from the network, so only connections in the middle of a read
hold them, and their memory is reused connection after connection (freeing them once a
connection had been quiet for a while left the touched pages resident but unused).
"""

from __future__ import annotations

import ctypes
import logging
import ssl
import sys
from functools import cache
from typing import Any

import trio

__all__ = ["ReleasingTransport"]

log = logging.getLogger(__name__)
_HANDLE_OFFSET = object.__basicsize__ + ctypes.sizeof(ctypes.c_void_p)


class _LibSSL:
    def __init__(self, library: ctypes.CDLL) -> None:
        self.free_buffers = library.SSL_free_buffers
        self.free_buffers.argtypes = [ctypes.c_void_p]
        self.free_buffers.restype = ctypes.c_int
        self.app_data = library.SSL_get_ex_data
        self.app_data.argtypes = [ctypes.c_void_p, ctypes.c_int]
        self.app_data.restype = ctypes.c_void_p

    def handle(self, inner: object) -> int | None:
        """The ``SSL *`` of CPython's ``_ssl._SSLSocket``, if it is the one that object owns."""
        address = ctypes.c_void_p.from_address(id(inner) + _HANDLE_OFFSET).value
        if not address or self.app_data(address, 0) != id(inner):
            return None
        return address


@cache
def _libssl() -> _LibSSL | None:
    try:
        import _ssl

        if sys.implementation.name != "cpython":
            raise LookupError(f"{sys.implementation.name} keeps its ssl objects its own way")
        probe = ssl.create_default_context().wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
        if type(_inner(probe)).__basicsize__ < _HANDLE_OFFSET + ctypes.sizeof(ctypes.c_void_p):
            raise LookupError("ssl objects too small for the expected layout")
        lib = _LibSSL(ctypes.CDLL(_ssl.__file__))  # its libssl's symbols resolve through it
        if lib.handle(_inner(probe)) is None:
            raise LookupError("unexpected layout of ssl objects")
    except Exception as exc:  # another Python or OpenSSL build: keep the buffers
        log.info("idle TLS buffers are kept (%s)", exc)
        return None
    return lib


def _inner(ssl_object: Any) -> object:
    return ssl_object._sslobj


def _ssl_object_of(stream: object) -> ssl.SSLObject | None:
    ssl_object = getattr(stream, "_ssl_object", None)
    return ssl_object if isinstance(ssl_object, ssl.SSLObject) else None


def _free_buffers(ssl_object: ssl.SSLObject) -> bool:
    lib = _libssl()
    if lib is None:
        return False
    handle = lib.handle(_inner(ssl_object))
    return handle is not None and lib.free_buffers(handle) == 1


class ReleasingTransport(trio.abc.Stream):
    """A socket stream for a ``trio.SSLStream`` that frees its record buffers before each wait.

    The TLS layer reads its transport only when OpenSSL wants more bytes, i.e. no whole record
    is buffered (a half-read record makes ``SSL_free_buffers`` refuse, harmlessly). Armed by
    :meth:`arm` once the handshake is done; a no-op where the buffers cannot be freed.
    """

    __slots__ = ("_ssl_object", "socket_stream")

    def __init__(self, socket_stream: trio.SocketStream) -> None:
        self.socket_stream = socket_stream
        self._ssl_object: ssl.SSLObject | None = None

    def arm(self, stream: trio.SSLStream[Any]) -> None:
        """Free ``stream``'s buffers before every wait from now on (after its handshake)."""
        if _libssl() is not None:
            self._ssl_object = _ssl_object_of(stream)

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        if self._ssl_object is not None:
            _free_buffers(self._ssl_object)
        return await self.socket_stream.receive_some(max_bytes)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.socket_stream.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.socket_stream.wait_send_all_might_not_block()

    async def aclose(self) -> None:
        await self.socket_stream.aclose()
