"""Import every module that registers handlers, so the registry is complete."""

from __future__ import annotations


def load() -> None:
    """Register all handlers (idempotent)."""
    from . import auth_methods, core_methods  # noqa: F401
    from .errors_map import register_all

    register_all()
