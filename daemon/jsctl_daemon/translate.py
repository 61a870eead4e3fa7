"""Turn any exception raised by a handler into an error reply a person can act on."""

from __future__ import annotations

import logging

import trio

from jsctl_protocol import ErrorCode, RpcError

from .errors import DomainError

log = logging.getLogger(__name__)

_TRANSLATORS: list[tuple[type[BaseException], ErrorCode]] = []


def register_error(exception_type: type[BaseException], code: ErrorCode) -> None:
    """Map a domain exception type (its str() is the message, its ``data`` the error's data)
    to an error code; registering the same pair again changes nothing."""
    if (exception_type, code) not in _TRANSLATORS:
        _TRANSLATORS.append((exception_type, code))


def as_rpc_error(exc: BaseException, method: str) -> RpcError:
    """The RpcError for ``exc``; unknown exceptions are logged and reported as internal."""
    if isinstance(exc, RpcError):
        return exc
    for exception_type, code in _TRANSLATORS:
        if isinstance(exc, exception_type):
            return RpcError(code, str(exc), exc.data if isinstance(exc, DomainError) else None)
    if isinstance(exc, trio.TooSlowError):
        return RpcError(ErrorCode.TIMEOUT, f"`{method}` timed out")
    log.exception("internal error in %s", method)
    return RpcError(
        ErrorCode.INTERNAL,
        f"internal error in `{method}` ({type(exc).__name__}); the daemon log has details",
    )
