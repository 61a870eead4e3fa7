"""Errors of the directory: what a name does not resolve to, and why."""

from __future__ import annotations

from ..errors import DomainError


class DirectoryError(DomainError):
    """Base class of the directory's refusals."""


class NotInDirectory(DirectoryError):
    """No permitted asset, account, node or organisation by that name (or no longer)."""


class OutsideAllowList(DirectoryError):
    """The caller may not use it: outside an agent's allow-list, or no account on it."""


class Ambiguous(DirectoryError):
    """The name fits several; ``data["candidates"]`` lists them."""
