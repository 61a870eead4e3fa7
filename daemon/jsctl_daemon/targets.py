"""One home for resolving a call's asset and account within the caller's allow-lists (sessions,
files, approvals, fleets, completion)."""

from __future__ import annotations

from typing import Any

from .auth import AuthDomain
from .caller import Identity
from .directory import AllowFn, DirectoryDomain, ResolvedAccount, ResolvedAsset
from .policy import AccountFilter, Policy


class Targets:
    """The directory seen through one caller's allow-lists."""

    def __init__(self, directory: DirectoryDomain, auth: AuthDomain, policy: Policy) -> None:
        self._directory = directory
        self._auth = auth
        self._policy = policy

    def assets_for(self, identity: Identity) -> AllowFn | None:
        """The caller's asset allow-list (None: everything, as for the person)."""
        return self._policy.asset_filter(identity)

    def accounts_for(self, identity: Identity) -> AccountFilter | None:
        """The caller's `--accounts` patterns (None: every account)."""
        return self._policy.account_filter(identity)

    async def resolve(
        self, identity: Identity, params: dict[str, Any]
    ) -> tuple[str, ResolvedAsset, ResolvedAccount]:
        """The profile, asset and account a call's `profile`/`asset`/`org`/`account` name."""
        profile = self._auth.resolve_name(params.get("profile"))
        asset = await self._directory.resolve_asset(
            profile, params["asset"], params.get("org"), allowed=self.assets_for(identity)
        )
        account = await self._directory.resolve_account(
            profile, asset, params.get("account"), allowed=self.accounts_for(identity)
        )
        return profile, asset, account

    def permitted_accounts(self, identity: Identity, found: dict[str, Any]) -> dict[str, Any]:
        """``found`` with only the accounts the caller's `--accounts` patterns allow."""
        allowed = self.accounts_for(identity)
        if allowed is None:
            return found
        accounts = [a for a in found.get("accounts", []) if allowed(a["name"], a["username"])]
        return {**found, "accounts": accounts}
