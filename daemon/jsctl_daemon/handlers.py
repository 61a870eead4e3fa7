"""Import every module that registers handlers, so the registry is complete."""

from __future__ import annotations


def load() -> None:
    """Register all handlers (idempotent)."""
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
        secret_methods,
        session_methods,
    )
    from .errors_map import register_all

    register_all()
    consent_methods.install_gates()
    secret_methods.install_guards()
    identity_methods.install()
