"""The directory: permitted assets, nodes and accounts per profile, cached with a TTL.

Public surface: :class:`DirectoryDomain` (``daemon.directory``) with ``resolve_asset``,
``resolve_account``, ``complete`` and the listings behind the ``assets.*``, ``accounts.list``,
``nodes.list`` and ``connect_methods`` RPC methods; :class:`ResolvedAsset`,
:class:`ResolvedAccount`; ``AllowFn``, the policy layer's allow-list predicate.
"""

from __future__ import annotations

from ._domain import DirectoryDomain
from ._errors import Ambiguous, DirectoryError, NotInDirectory, OutsideAllowList
from ._match import AllowFn
from ._model import ResolvedAccount, ResolvedAsset

__all__ = [
    "AllowFn",
    "Ambiguous",
    "DirectoryDomain",
    "DirectoryError",
    "NotInDirectory",
    "OutsideAllowList",
    "ResolvedAccount",
    "ResolvedAsset",
]
