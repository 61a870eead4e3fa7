"""jsctl's wire contract, sans-I/O: frames, messages, errors and the method table."""

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
from ._methods import METHODS, PROTOCOL_VERSION, method
from ._table import Method, Param, Permission

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
