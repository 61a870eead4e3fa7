"""The base of the domains' own errors (directory, auth, consent, policy, fleets, the index).

A domain says what went wrong in its own terms and never builds an RPC error: errors_map.py is
the one place that says which RPC error code each domain error becomes.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """``str(exc)`` is the sentence a person acts on; ``data`` is detail for programs."""

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.data = data
