"""jsctl's wire contract, sans-I/O: frames, messages, errors and the method table.

Every name loads on first use (PEP 562): a client that frames
messages does not build the method table, and start-up stays close to a bare interpreter.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not from typing: importing typing costs a completion ~4 ms

if TYPE_CHECKING:  # explicit re-exports for type checkers; at run time see __getattr__
    from ._errors import (
        ErrorCode as ErrorCode,
    )
    from ._errors import (
        ProtocolError as ProtocolError,
    )
    from ._errors import (
        RpcError as RpcError,
    )
    from ._errors import (
        quote_input as quote_input,
    )
    from ._framing import (
        MAX_FRAME_BYTES as MAX_FRAME_BYTES,
    )
    from ._framing import (
        FrameDecoder as FrameDecoder,
    )
    from ._framing import (
        decode_body as decode_body,
    )
    from ._framing import (
        encode_frame as encode_frame,
    )
    from ._limits import (
        FLEET_HANDLE_PREFIX as FLEET_HANDLE_PREFIX,
    )
    from ._limits import (
        MAX_STDIN_BYTES as MAX_STDIN_BYTES,
    )
    from ._messages import (
        ErrorReply as ErrorReply,
    )
    from ._messages import (
        Reply as Reply,
    )
    from ._messages import (
        Request as Request,
    )
    from ._messages import (
        RequestId as RequestId,
    )
    from ._messages import (
        Result as Result,
    )
    from ._messages import (
        StreamPush as StreamPush,
    )
    from ._messages import (
        parse_reply as parse_reply,
    )
    from ._messages import (
        parse_request as parse_request,
    )
    from ._methods import (
        METHODS as METHODS,
    )
    from ._methods import (
        TOOL_METHODS as TOOL_METHODS,
    )
    from ._methods import (
        method as method,
    )
    from ._table import (
        Method as Method,
    )
    from ._table import (
        Param as Param,
    )
    from ._table import (
        Permission as Permission,
    )
    from ._version import (
        PROTOCOL_VERSION as PROTOCOL_VERSION,
    )

_LAZY = {
    "ErrorCode": "_errors",
    "ProtocolError": "_errors",
    "RpcError": "_errors",
    "quote_input": "_errors",
    "MAX_FRAME_BYTES": "_framing",
    "FrameDecoder": "_framing",
    "decode_body": "_framing",
    "encode_frame": "_framing",
    "ErrorReply": "_messages",
    "Reply": "_messages",
    "Request": "_messages",
    "RequestId": "_messages",
    "Result": "_messages",
    "StreamPush": "_messages",
    "parse_reply": "_messages",
    "parse_request": "_messages",
    "MAX_STDIN_BYTES": "_limits",
    "METHODS": "_methods",
    "TOOL_METHODS": "_methods",
    "FLEET_HANDLE_PREFIX": "_limits",
    "method": "_methods",
    "Method": "_table",
    "Param": "_table",
    "Permission": "_table",
    "PROTOCOL_VERSION": "_version",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'jsctl_protocol' has no attribute {name!r}")
    import sys

    qualified = f"jsctl_protocol.{module_name}"
    __import__(qualified)  # not importlib: that package costs a completion a millisecond
    value = getattr(sys.modules[qualified], name)
    globals()[name] = value  # later look-ups skip this function
    return value


__all__ = [
    "FLEET_HANDLE_PREFIX",
    "MAX_FRAME_BYTES",
    "MAX_STDIN_BYTES",
    "METHODS",
    "PROTOCOL_VERSION",
    "TOOL_METHODS",
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
    "quote_input",
]
