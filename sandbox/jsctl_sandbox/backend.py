"""The sandbox core's implementation of the KoKo backend contract."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

from ._clock import format_datetime
from ._koko_auth import ConnectTicketStore, identify
from ._model import Asset, User
from ._restauth import user_is_valid
from ._serialize import profile
from ._services import asset_environment
from ._state import SandboxState
from ._sudo import sudo_environment
from ._tokens import PERM_CHECK_GRACE, ConnectionToken
from .koko_contract import KokoGrant, KokoSettings, KokoTokenError, KokoTokenUserMismatch, KokoUser


def koko_user(state: SandboxState, user: User) -> KokoUser:
    """The KokoUser view of a sandbox user."""
    body = profile(user, login_blocked=state.guard.is_blocked(user.username))
    return KokoUser(
        id=user.id, name=user.name, username=user.username, email=user.email, profile=body
    )


class SandboxKokoBackend:
    """Authentication and token consumption for the KoKo endpoints."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.tickets = ConnectTicketStore()  # v5 KoKo's connect tickets (in KoKo's memory)

    @property
    def settings(self) -> KokoSettings:
        """Timing knobs and faults (shared with the control API)."""
        return self.state.koko_settings

    def authenticate(self, connection: HTTPConnection) -> KokoUser | Response:
        """KoKo's auth middleware: cookies (the session slides, like the profile GET); on v5
        also access-key headers and connect tickets (see _koko_auth)."""
        found = identify(self.state, connection)
        return found if isinstance(found, Response) else koko_user(self.state, found)

    def _account(self, token: ConnectionToken, asset: Asset, user: User) -> tuple[str, str]:
        if token.account == "@INPUT":
            return "Manual input", token.input_username
        if token.account == "@USER":
            return "Dynamic user", user.username
        account = next((a for a in asset.accounts if a.id == token.account), None)
        return (account.name, account.username) if account else (token.account, token.account)

    def _check(self, token: ConnectionToken, user: User, asset: Asset) -> None:
        now = self.state.clock.now()
        if token.expired(now):
            raise KokoTokenError(
                f"Connection token expired at: {format_datetime(token.date_expired)}"
            )
        if not token.is_active:
            raise KokoTokenError("Connection token inactive")
        if not user_is_valid(user, now):
            raise KokoTokenError("Connection token user is invalid")
        if not asset.is_active:
            raise KokoTokenError("Connection token asset is inactive")
        if now - token.date_created > PERM_CHECK_GRACE:
            grant = self.state.directory.grant(user, asset, now)
            ids = {a.id for a in grant.accounts} | set(grant.virtual) if grant else set()
            if (
                grant is None
                or token.account not in ids
                or (grant.date_expired is not None and grant.date_expired <= now)
            ):
                raise KokoTokenError("Connection token permission expired")

    def consume_token(self, token_id: str, user: KokoUser) -> KokoGrant:
        """Validate a token for ``user`` and expire it now (unless reusable and allowed)."""
        state = self.state
        token: ConnectionToken | None = state.connection_tokens.get(token_id)
        if token is None:
            raise KokoTokenError("Token invalid")
        owner = state.directory.users[token.user_id]
        asset = state.directory.assets[token.asset_id]
        self._check(token, owner, asset)
        if token.user_id != user.id:
            raise KokoTokenUserMismatch(token_id)
        if not (token.is_reusable and state.options.connection_token_reusable):
            token.date_expired = state.clock.now()
        account_name, account_username = self._account(token, asset, owner)
        home, file_root = state.asset_dirs(asset.name)
        grant = state.directory.grant(owner, asset, state.clock.now())
        org = state.directory.orgs.get(asset.org_id)
        platform = {
            "id": asset.platform_id,
            "name": asset.platform_name,
            "type": {"value": asset.platform_type, "label": asset.platform_name},
        }
        state.counters["tokens_consumed"] += 1
        return KokoGrant(
            token_id=token.id,
            user=user,
            asset_id=asset.id,
            asset_name=asset.name,
            asset_address=asset.address,
            org_id=asset.org_id,
            org_name=org.name if org else "",
            platform=platform,
            account_alias=token.account,
            account_name=account_name,
            account_username=account_username,
            protocol=token.protocol,
            connect_method=token.connect_method,
            actions=list(grant.actions) if grant else ["connect"],
            remote_addr=token.remote_addr,
            hostname=asset.name,
            workdir=home,
            file_root=file_root,
            asset_info=self._asset_info(asset, platform, org_name=org.name if org else ""),
            shell_env=self._shell_env(token, asset, account_username),
            # KoKo asks in the terminal for a secret the token does not carry (sheet 7.6).
            needs_password=token.account in ("@INPUT", "@USER") and not token.input_secret,
        )

    def _shell_env(self, token: ConnectionToken, asset: Asset, username: str) -> dict[str, str]:
        """The asset's own hostname and services; its sudo asks for the account's password (a
        virtual account has none, and no sudo)."""
        env = asset_environment(self.state.data_dir, asset.name)
        account = next((a for a in asset.accounts if a.id == token.account), None)
        if account is None:
            return env
        others = {a.username: a.secret for a in asset.accounts}
        sudo = sudo_environment(
            self.state.data_dir, asset.name, username, account.secret, others, env["PATH"]
        )
        return {**env, **sudo}

    def _asset_info(self, asset: Asset, platform: dict[str, Any], org_name: str) -> dict[str, Any]:
        return {
            "id": asset.id,
            "name": asset.name,
            "address": asset.address,
            "org_id": asset.org_id,
            "org_name": org_name,
            "platform": platform,
            "protocols": [{"name": p.name, "port": p.port} for p in asset.protocols],
            "spec_info": {},
            "secret_info": {},
            "domain": None,
            "comment": asset.comment,
            "is_active": asset.is_active,
        }

    def now(self) -> float:
        """The sandbox clock (the control API moves it forward)."""
        return self.state.clock.now()

    def count(self, event: str) -> None:
        """Count an event (shown by the control API's counters)."""
        self.state.counters[event] += 1

    def record_session(self, grant: KokoGrant, session: dict[str, Any]) -> None:
        """Remember a terminal session for the control API."""
        self.state.terminal_sessions.append(dict(session))
        self.state.counters["terminal_sessions"] += 1
