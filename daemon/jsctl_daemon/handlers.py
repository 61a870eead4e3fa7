"""Import every module that registers handlers and wrappers, so the registry is complete."""

from __future__ import annotations


def load() -> None:
    """Register all handlers and wrappers (idempotent: each module registers once, at import)."""
    from . import (  # noqa: F401
        auth_methods,
        completion_methods,
        consent_methods,
        core_methods,
        directory_methods,
        file_methods,
        fleet_methods,
        identity_methods,
        policy_methods,
        run_methods,
        secret_methods,
        session_methods,
    )
    from .errors_map import register_all

    register_all()
