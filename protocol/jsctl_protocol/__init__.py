"""jsctl's wire contract, sans-I/O: frames, messages, errors and the method table.

The method table loads on first use (PEP 562), so a client that only frames messages
does not pay for building it.
"""

from typing import TYPE_CHECKING, Any

from ._errors import ErrorCode, ProtocolError, RpcError
from ._framing import MAX_FRAME_BYTES, FrameDecoder, decode_body, encode_frame
from ._messages import (
    ErrorReply,
    Reply,
    Request,
    RequestId,
    Result,
    StreamPush,
    parse_reply,
    parse_request,
)
from ._version import PROTOCOL_VERSION

if TYPE_CHECKING:
    from ._methods import METHODS, method
    from ._table import Method, Param, Permission

_LAZY = {
    "METHODS": "_methods",
    "method": "_methods",
    "Method": "_table",
    "Param": "_table",
    "Permission": "_table",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'jsctl_protocol' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"jsctl_protocol.{module_name}"), name)


__all__ = [
    "MAX_FRAME_BYTES",
    "METHODS",
    "PROTOCOL_VERSION",
    "ErrorCode",
    "ErrorReply",
    "FrameDecoder",
    "Method",
    "Param",
    "Permission",
    "ProtocolError",
    "Reply",
    "Request",
    "RequestId",
    "Result",
    "RpcError",
    "StreamPush",
    "decode_body",
    "encode_frame",
    "method",
    "parse_reply",
    "parse_request",
]
