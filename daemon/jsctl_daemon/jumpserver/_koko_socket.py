"""KoKo WebSocket plumbing shared by terminals and file sessions.

Open the raw socket (TCP, TLS handshake up front for clear errors, then the JMS-KOKO upgrade),
wait for CONNECT, and turn a refused upgrade into the right error.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    wrap_client_stream,
)

from jsctl_daemon.jumpserver._terminal_socket import TerminalSocket, open_terminal_socket
from jsctl_daemon.jumpserver._tls_buffers import ReleasingTransport
from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import (
    KokoUnreachable,
    LoginRequired,
    TerminalRefused,
    TLSFailure,
    Unreachable,
)
from jsctl_daemon.jumpserver.koko_auth import KokoCredentials, as_credentials
from jsctl_koko import decode_server_message

if TYPE_CHECKING:
    from jsctl_daemon.jumpserver.koko import KokoSettings

__all__ = [
    "await_connect",
    "connect_socket",
    "connect_terminal",
    "koko_failures",
    "rejection_error",
    "unwrap_group",
]

SUBPROTOCOL = "JMS-KOKO"
_QUEUE = 4  # frames buffered per terminal; small so 500 idle terminals stay cheap


def _ssl_reason(exc: BaseException) -> str | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return str(getattr(seen, "verify_message", None) or seen.reason or seen)
        seen = seen.__cause__ or seen.__context__
    return None


async def _open_stream(
    config: ServerConfig, limit_s: float
) -> trio.SocketStream | trio.SSLStream[ReleasingTransport]:
    try:
        with trio.fail_after(limit_s):
            tcp = await trio.open_tcp_stream(config.host, config.port)
            context = config.ssl_context
            if context is None:
                return tcp
            transport = ReleasingTransport(tcp)
            stream = trio.SSLStream(
                transport, context, server_hostname=config.host, https_compatible=True
            )
            await stream.do_handshake()
            transport.arm(stream)
            return stream
    except trio.TooSlowError:
        raise Unreachable(config.url, f"no connection within {limit_s:g} s") from None
    except (OSError, trio.BrokenResourceError) as exc:
        reason = _ssl_reason(exc)
        if reason is not None:
            raise TLSFailure(config.url, reason) from None
        raise Unreachable(config.url, str(exc) or type(exc).__name__) from None


def _upgrade_headers(credentials: str | KokoCredentials) -> list[tuple[bytes, bytes]]:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in as_credentials(credentials).headers()
    ]
    return [*headers, (b"Accept-Language", b"en"), (b"User-Agent", b"jsctl")]


async def connect_terminal(
    config: ServerConfig,
    resource: str,
    credentials: str | KokoCredentials,
    settings: KokoSettings,
) -> TerminalSocket:
    """A terminal's WebSocket to ``resource`` on KoKo, read by its consumer (no reader task).

    A refused upgrade raises the error :func:`rejection_error` makes of it.
    """
    stream = await _open_stream(config, settings.connect_timeout)
    try:
        with trio.fail_after(settings.connect_timeout):
            return await open_terminal_socket(
                stream,
                config.netloc,
                resource,
                subprotocols=[SUBPROTOCOL],
                headers=_upgrade_headers(credentials),
            )
    except trio.TooSlowError:
        problem: Exception = TerminalRefused(
            f"KoKo did not answer the WebSocket upgrade within {settings.connect_timeout:g} s"
        )
    except ConnectionRejected as rejected:
        problem = rejection_error(rejected)
    except ConnectionClosed as closed:
        problem = TerminalRefused(
            f"KoKo closed the connection during the WebSocket upgrade ({closed.reason})"
        )
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    await trio.aclose_forcefully(stream)
    raise problem from None


async def connect_socket(
    nursery: trio.Nursery,
    config: ServerConfig,
    resource: str,
    credentials: str | KokoCredentials,
    settings: KokoSettings,
    *,
    message_queue_size: int = _QUEUE,
    max_message_size: int = 2**20,
    receive_buffer_size: int = 64 * 1024,
) -> WebSocketConnection:
    """A WebSocket to ``resource`` on KoKo whose reader task runs in ``nursery``.

    ``credentials``: the web-session cookie header, or KokoCredentials (cookie or access key).
    File sessions raise the message and receive-buffer sizes (2 MiB chunks travel as base64).
    """
    stream = await _open_stream(config, settings.connect_timeout)
    headers = _upgrade_headers(credentials)
    try:
        with trio.fail_after(settings.connect_timeout):
            return await wrap_client_stream(
                nursery,
                cast(
                    "trio.SocketStream | trio.SSLStream[trio.SocketStream]", stream
                ),  # same methods
                config.netloc,
                resource,
                subprotocols=[SUBPROTOCOL],
                extra_headers=headers,
                message_queue_size=message_queue_size,
                max_message_size=max_message_size,
                receive_buffer_size=receive_buffer_size,
            )
    except trio.TooSlowError:
        await stream.aclose()
        raise TerminalRefused(
            f"KoKo did not answer the WebSocket upgrade within {settings.connect_timeout:g} s"
        ) from None


async def await_connect(
    ws: WebSocketConnection | TerminalSocket, limit_s: float, what: str = "terminal"
) -> str:
    """Read until CONNECT and return its id; ERROR becomes TerminalRefused, silence a timeout."""
    with trio.move_on_after(limit_s):
        while True:
            try:
                message = await ws.get_message()
            except ConnectionClosed:
                raise TerminalRefused("KoKo closed the connection before starting") from None
            if isinstance(message, bytes):
                continue
            parsed = decode_server_message(message) or {}
            if parsed.get("type") == "ERROR":
                raise TerminalRefused(str(parsed.get("err") or "unknown error"))
            if parsed.get("type") == "CONNECT" and parsed.get("id"):
                return str(parsed["id"])
    raise TerminalRefused(
        f"KoKo did not start the {what} within {limit_s:g} s — the connection token may "
        "belong to a different user than the web login, or KoKo is overloaded"
    )


def unwrap_group(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one meaningful exception of a nursery's group (Cancelled ones are noise)."""
    real = [e for e in group.exceptions if not isinstance(e, trio.Cancelled)]
    if len(real) == 1:
        inner = real[0]
        return unwrap_group(inner) if isinstance(inner, BaseExceptionGroup) else inner
    return group


def rejection_error(error: ConnectionRejected) -> Exception:
    """A refused upgrade: a redirect or 401/403 means the web session is gone (sheet 7.2)."""
    if error.status_code in (301, 302, 303, 401, 403):
        return LoginRequired("has expired (KoKo refused the web session)")
    if error.status_code == 404 or error.status_code >= 500:
        return KokoUnreachable(error.status_code)  # the core answered: /koko/ is not routed
    return TerminalRefused(f"KoKo answered the WebSocket upgrade with HTTP {error.status_code}")


@contextmanager
def koko_failures(
    rejected: Callable[[ConnectionRejected], Exception] = rejection_error,
) -> Iterator[None]:
    """Around a KoKo socket's nursery: its one real error raised bare, a refused upgrade mapped."""
    try:
        yield
    except BaseExceptionGroup as group:
        error = unwrap_group(group)
        if error is group:
            raise
        if isinstance(error, ConnectionRejected):
            raise rejected(error) from None
        raise error from None
