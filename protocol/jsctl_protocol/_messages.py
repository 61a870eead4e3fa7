"""The four message shapes: request, result reply, error reply and stream push.

Plain slotted classes rather than dataclasses: every `jsctl` call imports this module, and
dataclass generation costs start-up time.
"""

from __future__ import annotations

from ._errors import ErrorCode, ProtocolError, RpcError

TYPE_CHECKING = False  # typing itself is not imported at run time: it costs start-up
if TYPE_CHECKING:
    from typing import Any

RequestId = int | str


class Request:
    """``{id, method, params}`` from a client."""

    __slots__ = ("id", "method", "params")

    def __init__(self, id: RequestId, method: str, params: dict[str, Any] | None = None) -> None:
        self.id = id
        self.method = method
        self.params = {} if params is None else params

    def to_wire(self) -> dict[str, Any]:
        """The map to frame."""
        return {"id": self.id, "method": self.method, "params": self.params}


class Result:
    """``{id, result}``: the final, successful answer to a request."""

    __slots__ = ("id", "result")

    def __init__(self, id: RequestId, result: Any) -> None:
        self.id = id
        self.result = result

    def to_wire(self) -> dict[str, Any]:
        """The map to frame."""
        return {"id": self.id, "result": self.result}


class ErrorReply:
    """``{id, error}``: the final, failed answer to a request (id is None if it had none)."""

    __slots__ = ("error", "id")

    def __init__(self, id: RequestId | None, error: RpcError) -> None:
        self.id = id
        self.error = error

    def to_wire(self) -> dict[str, Any]:
        """The map to frame."""
        return {"id": self.id, "error": self.error.to_wire()}


class StreamPush:
    """``{stream, data}``: one item pushed for a streaming request before its final reply."""

    __slots__ = ("data", "id")

    def __init__(self, id: RequestId, data: Any) -> None:
        self.id = id
        self.data = data

    def to_wire(self) -> dict[str, Any]:
        """The map to frame."""
        return {"stream": self.id, "data": self.data}


Reply = Result | ErrorReply | StreamPush


def _is_request_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and 0 < len(value) <= 128
    )


def parse_request(message: dict[str, Any]) -> Request:
    """Validate a decoded map as a request; RpcError(BAD_REQUEST) names what is wrong."""
    request_id = message.get("id")
    if not _is_request_id(request_id):
        raise RpcError(ErrorCode.BAD_REQUEST, "request needs an integer or short string `id`")
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise RpcError(ErrorCode.BAD_REQUEST, "request needs a string `method`", {"id": request_id})
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(ErrorCode.BAD_REQUEST, "request `params` must be a map", {"id": request_id})
    assert isinstance(request_id, int | str)
    return Request(request_id, method, params)


def parse_reply(message: dict[str, Any]) -> Reply:
    """Validate a decoded map as a reply or stream push; ProtocolError on anything else."""
    if "stream" in message:
        stream_id = message["stream"]
        if not _is_request_id(stream_id):
            raise ProtocolError("stream push has a bad id")
        return StreamPush(stream_id, message.get("data"))
    reply_id = message.get("id")
    if reply_id is not None and not _is_request_id(reply_id):
        raise ProtocolError("reply has a bad id")
    if "error" in message:
        return ErrorReply(reply_id, RpcError.from_wire(message["error"]))
    if "result" in message and reply_id is not None:
        return Result(reply_id, message["result"])
    raise ProtocolError("reply has neither result nor error")
