"""Handler registry, the context every handler receives, and how handlers get their services.

A handler is ``async def h(ctx, params, *, audit: AuditLog, sessions: SessionManager)``: its
keyword-only parameters name the services it uses (fields of :class:`~.services.Services`, with
the same type), checked when it registers, so each handler's dependencies are explicit and a
handler cannot reach the rest of the daemon. Wrappers around handlers (approval gates, secret
guards, identity notes) register the same way with :meth:`Registry.around`, in a declared
:class:`Layer`; :meth:`Registry.bind` composes everything once when the daemon starts serving.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from jsctl_protocol import METHODS, ErrorCode, RequestId, RpcError

from .caller import Identity

if TYPE_CHECKING:
    from .services import Services


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
    """One call: the method, the connection it came on, and a way to push stream items."""

    method: str
    connection: Connection
    request_id: RequestId
    push: Push
    after_reply: list[Callable[[], None]] = field(default_factory=list)  # run once replied

    @property
    def identity(self) -> Identity:
        """The caller's identity (hello has run before any other handler)."""
        assert self.connection.identity is not None
        return self.connection.identity


Call = Callable[[CallContext, dict[str, Any]], Awaitable[Any]]
"""A handler with its services given: what the connection calls."""

Handler = Callable[..., Awaitable[Any]]  # (ctx, params, *, service=…)
Wrapper = Callable[..., Awaitable[Any]]  # (inner: Call, ctx, params, *, service=…)
_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


class Layer(enum.IntEnum):
    """Where a wrapper sits around a handler, innermost first."""

    APPROVAL = 1  # an agent's --confirm rule holds the call itself
    SECRET = 2  # password prompts: refuse an agent's typing there, say a session waits at one
    IDENTITY = 3  # learn who a session runs as from what is typed; show it in replies


@dataclass(frozen=True)
class _Registered:
    function: Callable[..., Awaitable[Any]]
    needs: tuple[str, ...]  # the services it names


@dataclass(frozen=True)
class _Around(_Registered):
    methods: tuple[str, ...] = ()
    layer: Layer = Layer.APPROVAL
    order: int = 0


def _service_types() -> dict[str, str]:
    from .services import Services

    return {f.name: str(f.type) for f in dataclasses.fields(Services)}


def _needs(function: Callable[..., Any]) -> tuple[str, ...]:
    """The services ``function`` declares (keyword-only parameters); refuses anything else."""
    known = _service_types()
    needs = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        where = f"{function.__module__}.{function.__qualname__}"
        if parameter.name not in known:
            raise TypeError(f"{where} asks for `{parameter.name}`, which is not a service")
        if str(parameter.annotation) != known[parameter.name]:
            raise TypeError(
                f"{where} takes `{parameter.name}` as {parameter.annotation}; "
                f"the service is {known[parameter.name]}"
            )
        needs.append(parameter.name)
    return tuple(needs)


def _given(registered: _Registered, services: Services) -> dict[str, Any]:
    return {name: getattr(services, name) for name in registered.needs}


class Registry:
    """Method name → handler; every name must be a row of the protocol's method table, and has
    exactly one handler (a second registration is a mistake import order would hide)."""

    def __init__(self) -> None:
        self._handlers: dict[str, _Registered] = {}
        self._around: list[_Around] = []
        self._order = itertools.count()

    def handler(self, name: str) -> Callable[[_F], _F]:
        """Decorator registering a handler for the table method ``name``."""
        if name not in METHODS:
            raise KeyError(f"{name!r} is not in the protocol's method table")

        def register(function: _F) -> _F:
            if name in self._handlers:
                raise ValueError(
                    f"{name!r} already has a handler "
                    f"({self._handlers[name].function.__module__}); one per method"
                )
            self._handlers[name] = _Registered(function, _needs(function))
            return function

        return register

    def around(self, *names: str, layer: Layer) -> Callable[[_F], _F]:
        """Decorator registering a wrapper around the handlers of ``names`` in ``layer``.

        The wrapper is ``async def w(inner, ctx, params, *, service=…)``; it calls
        ``inner(ctx, params)`` to go on (or not). Within a layer, earlier registrations sit
        inside later ones.
        """
        unknown = [name for name in names if name not in METHODS]
        if unknown:
            raise KeyError(f"{unknown} are not in the protocol's method table")

        def register(function: _F) -> _F:
            needs = _needs(function)
            self._around.append(_Around(function, needs, names, layer, next(self._order)))
            return function

        return register

    def get(self, name: str) -> Handler:
        """The handler registered for ``name`` (unbound: it still wants its services)."""
        try:
            return self._handlers[name].function
        except KeyError:
            raise RpcError(
                ErrorCode.UNKNOWN_METHOD, f"this daemon does not implement `{name}` yet"
            ) from None

    def needs(self, name: str) -> tuple[str, ...]:
        """The services the handler of ``name`` and its wrappers use."""
        wrappers = [w.needs for w in self._around if name in w.methods]
        return tuple(dict.fromkeys(itertools.chain(self._handlers[name].needs, *wrappers)))

    def bind(self, services: Services) -> dict[str, Call]:
        """Every handler with its services given and its wrappers around it, ready to call."""
        calls: dict[str, Call] = {}
        layered = sorted(self._around, key=lambda w: (w.layer, w.order))
        for name, registered in self._handlers.items():
            call: Call = registered.function  # no services: called as it is (ping, hello)
            if registered.needs:
                call = functools.partial(registered.function, **_given(registered, services))
            for wrapper in layered:
                if name in wrapper.methods:
                    call = functools.partial(wrapper.function, call, **_given(wrapper, services))
            calls[name] = call
        return calls


HANDLERS = Registry()
