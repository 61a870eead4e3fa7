"""Which credential a profile's KoKo connections use: the access key where KoKo takes it (v5),
else the web-session cookie. What KoKo takes is learnt once per login and remembered."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import trio

from ..jumpserver.errors import JumpServerError, LoginRequired
from ..jumpserver.koko_auth import KokoCredentials, KokoHeaderAuth, probe_header_auth

if TYPE_CHECKING:
    from ._profile import ProfileState

log = logging.getLogger(__name__)

# How long a probe's answer stands. A KoKo that takes the key keeps taking it (a refusal at
# connect time forgets it); a refused key or an older KoKo is asked again now and then, as a
# key can be re-enabled and KoKo upgraded while the daemon runs.
_REMEMBER_S = {
    KokoHeaderAuth.OFFERED: float("inf"),
    KokoHeaderAuth.KEY_REFUSED: 60.0,
    KokoHeaderAuth.ABSENT: 600.0,
}


@dataclass
class KokoAuthCache:
    """What the last probe of one profile's KoKo found."""

    found: KokoHeaderAuth | None = None
    checked_at: float = 0.0
    lock: trio.Lock = field(default_factory=trio.Lock)

    def fresh(self) -> bool:
        """Whether the remembered answer still stands."""
        if self.found is None:
            return False
        return time.monotonic() - self.checked_at < _REMEMBER_S[self.found]

    def forget(self) -> None:
        """Ask KoKo again next time."""
        self.found = None


async def header_auth(
    state: ProfileState, *, max_age: float | None = None
) -> KokoHeaderAuth | None:
    """Whether KoKo takes this profile's access key (None: no key, or KoKo could not be asked)."""
    key = state.connection.access_key
    if key is None:
        return None
    cache = state.koko_auth
    async with cache.lock:  # many terminals opening at once share one probe
        stale = max_age is not None and time.monotonic() - cache.checked_at > max_age
        if cache.fresh() and not stale:
            return cache.found
        config = state.connection.config
        try:
            found = await probe_header_auth(config, key, config.org)
        except JumpServerError as exc:
            log.info("profile %s: could not ask KoKo about the access key: %s", state.name, exc)
            return None
        if found is not cache.found:
            log.info("profile %s: KoKo access-key auth: %s", state.name, found.value)
        cache.found, cache.checked_at = found, time.monotonic()
        return found


async def access_key_credentials(state: ProfileState) -> KokoCredentials | None:
    """Signed-header credentials when this profile's KoKo takes the access key, else None."""
    key = state.connection.access_key
    if key is None or await header_auth(state) is not KokoHeaderAuth.OFFERED:
        return None
    return KokoCredentials.access_key(key, state.connection.config.org)


def refused(state: ProfileState, credentials: KokoCredentials, error: LoginRequired) -> Exception:
    """The error for KoKo refusing ``credentials`` (302/401 on the upgrade), noting what it
    says: the web session is gone, or the key is no longer taken (asked again next time)."""
    if credentials.via == "web_session":
        state.mark_web_session(False, error.reason)
        return error
    state.koko_auth.forget()
    return LoginRequired(
        "was refused by KoKo: it no longer accepts the access key (revoked on the server?); "
        "the next attempt checks again and uses the web session if it still lives"
    ).for_profile(state.name)


async def describe(state: ProfileState, web_alive: bool | None) -> dict[str, Any]:
    """``whoami``/``doctor``: which credential terminals and file sessions use, and why."""
    found = await header_auth(state, max_age=0)
    if found is KokoHeaderAuth.OFFERED:
        return {
            "via": "access_key",
            "header_auth": True,
            "detail": "access key (KoKo takes signed headers; the web session is not needed)",
        }
    if state.connection.access_key is None:
        why = "no access key: the web session"
    elif found is KokoHeaderAuth.KEY_REFUSED:
        why = "web session (KoKo takes access keys but refused this one: revoked?)"
    elif found is KokoHeaderAuth.ABSENT:
        why = "web session (this KoKo, before v5, takes only the web-session cookie)"
    else:
        why = "web session (KoKo could not be asked whether it takes the access key)"
    if web_alive is False:
        why += " — expired"
    return {
        "via": "web_session",
        "header_auth": None if found is None else found is not KokoHeaderAuth.ABSENT,
        "detail": why,
    }
