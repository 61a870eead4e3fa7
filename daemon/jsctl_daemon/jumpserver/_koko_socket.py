"""Open the raw WebSocket to KoKo: TCP, TLS handshake up front (clear errors), then upgrade."""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import trio
from trio_websocket import WebSocketConnection, wrap_client_stream

from jsctl_daemon.jumpserver.config import ServerConfig
from jsctl_daemon.jumpserver.errors import TerminalRefused, TLSFailure, Unreachable

if TYPE_CHECKING:
    from jsctl_daemon.jumpserver.koko import KokoSettings

__all__ = ["connect_socket"]

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
) -> trio.SocketStream | trio.SSLStream[trio.SocketStream]:
    try:
        with trio.fail_after(limit_s):
            tcp = await trio.open_tcp_stream(config.host, config.port)
            context = config.ssl_context
            if context is None:
                return tcp
            stream = trio.SSLStream(
                tcp, context, server_hostname=config.host, https_compatible=True
            )
            await stream.do_handshake()
            return stream
    except trio.TooSlowError:
        raise Unreachable(config.url, f"no connection within {limit_s:g} s") from None
    except (OSError, trio.BrokenResourceError) as exc:
        reason = _ssl_reason(exc)
        if reason is not None:
            raise TLSFailure(config.url, reason) from None
        raise Unreachable(config.url, str(exc) or type(exc).__name__) from None


async def connect_socket(
    nursery: trio.Nursery,
    config: ServerConfig,
    resource: str,
    cookie_header: str,
    settings: KokoSettings,
) -> WebSocketConnection:
    """A WebSocket to ``resource`` on KoKo whose reader task runs in ``nursery``."""
    stream = await _open_stream(config, settings.connect_timeout)
    headers = [
        (b"Cookie", cookie_header.encode("latin-1")),
        (b"Accept-Language", b"en"),
        (b"User-Agent", b"jsctl"),
    ]
    try:
        with trio.fail_after(settings.connect_timeout):
            return await wrap_client_stream(
                nursery,
                stream,
                config.netloc,
                resource,
                subprotocols=[SUBPROTOCOL],
                extra_headers=headers,
                message_queue_size=_QUEUE,
            )
    except trio.TooSlowError:
        await stream.aclose()
        raise TerminalRefused(
            f"KoKo did not answer the WebSocket upgrade within {settings.connect_timeout:g} s"
        ) from None
