"""Handler registry and the context every handler receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jsctl_protocol import METHODS, ErrorCode, RequestId, RpcError

if TYPE_CHECKING:
    from .server import Daemon


@dataclass(frozen=True)
class Identity:
    """Who is calling: the human's own front end, or a named agent client."""

    kind: str  # "human" or "client"
    name: str
    owner: str = "human"  # what owns its sessions and runs: stable, never a bare display name

    @property
    def is_human(self) -> bool:
        """True for the person's own CLI (no client token)."""
        return self.kind == "human"


HUMAN = Identity("human", "human", "human")


@dataclass
class Connection:
    """Per-connection state the handlers may look at."""

    number: int
    peer_uid: int | None
    identity: Identity | None = None  # set by hello
    client_name: str = ""
    read_only_sessions: set[str] = field(default_factory=set)  # read-only attachments


Push = Callable[[Any], Awaitable[None]]


@dataclass
class CallContext:
    """One call: the daemon, the connection it came on, and a way to push stream items."""

    daemon: Daemon
    connection: Connection
    request_id: RequestId
    push: Push
    after_reply: list[Callable[[], None]] = field(default_factory=list)  # run once replied

    @property
    def identity(self) -> Identity:
        """The caller's identity (hello has run before any other handler)."""
        assert self.connection.identity is not None
        return self.connection.identity


Handler = Callable[[CallContext, dict[str, Any]], Awaitable[Any]]


class Registry:
    """Method name → handler; every name must be a row of the protocol's method table, and has
    exactly one handler (a second registration is a mistake import order would hide)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def handler(self, name: str) -> Callable[[Handler], Handler]:
        """Decorator registering a handler for the table method ``name``."""
        if name not in METHODS:
            raise KeyError(f"{name!r} is not in the protocol's method table")

        def register(function: Handler) -> Handler:
            if name in self._handlers:
                raise ValueError(
                    f"{name!r} already has a handler "
                    f"({self._handlers[name].__module__}); one per method"
                )
            self._handlers[name] = function
            return function

        return register

    def wrap(self, name: str, wrapper: Callable[[Handler], Handler]) -> None:
        """Put ``wrapper`` around the registered handler of ``name`` (e.g. an approval gate)."""
        self._handlers[name] = wrapper(self._handlers[name])

    def get(self, name: str) -> Handler:
        """The handler for ``name``; RpcError if the table has it but this daemon does not."""
        try:
            return self._handlers[name]
        except KeyError:
            raise RpcError(
                ErrorCode.UNKNOWN_METHOD, f"this daemon does not implement `{name}` yet"
            ) from None


HANDLERS = Registry()
