"""Check a person's MFA code with the JumpServer server itself (its confirm API, sheet 4.2).

The server answers "is this the user's current code?" but limits nothing: it counts no wrong
codes and accepts the same code again within its window. So this side refuses a code it has
already accepted and stops listening after a few wrong codes, which is what keeps a program
running as the same user from guessing its way to an approval.
"""

from __future__ import annotations

import re
import time
from collections import deque

import trio

from ..auth._profile import ProfileState
from ..jumpserver._responses import parse_json, summarise_detail
from ._errors import ApprovalsLocked, BadCode, CodeRefused

CONFIRM = "/api/v1/authentication/confirm/"
MAX_FAILURES = 5
FAILURE_WINDOW_S = 300.0
REPLAY_WINDOW_S = 150.0  # longer than a TOTP code's life with the server's allowed drift
_CODE = re.compile(r"^\d{6,8}$")


class CodeVerifier:
    """Verifies codes one at a time, with an attempt limit and replay refusal."""

    def __init__(self) -> None:
        self._lock = trio.Lock()
        self._failures: deque[float] = deque()
        self._used: dict[tuple[str, str], float] = {}

    def _check_limits(self, now: float) -> None:
        while self._failures and self._failures[0] < now - FAILURE_WINDOW_S:
            self._failures.popleft()
        if len(self._failures) >= MAX_FAILURES:
            wait = int(self._failures[0] + FAILURE_WINDOW_S - now) + 1
            raise ApprovalsLocked(
                f"{MAX_FAILURES} wrong codes in {FAILURE_WINDOW_S / 60:g} minutes: approvals are "
                f"locked for {wait} s (someone may be guessing codes)",
            )
        for key, when in list(self._used.items()):
            if when < now - REPLAY_WINDOW_S:
                del self._used[key]

    async def verify(self, state: ProfileState, code: str) -> str:
        """Return the channel ("mfa") if JumpServer accepts ``code``; a ConsentError otherwise."""
        code = code.strip().replace(" ", "")
        async with self._lock:
            now = time.time()
            self._check_limits(now)
            if not _CODE.match(code):
                self._failures.append(now)
                raise BadCode(
                    "an approval needs the 6-digit code from your authenticator app",
                )
            key = (state.name, code)
            if key in self._used:
                raise CodeRefused(
                    "this code was already used for an approval; wait for your authenticator's "
                    "next code (approve several requests at once with one code)",
                )
            # A connection of its own: the confirm answer sets a fresh session cookie that must
            # not replace the web session the profile's terminals use.
            conn = state.credentials.connection()
            try:
                method = await conn.get_json(CONFIRM, params={"confirm_type": "mfa"})
                if not isinstance(method, dict) or method.get("confirm_type") != "mfa":
                    raise CodeRefused(
                        f"your JumpServer account {state.credentials.username} has no MFA, so "
                        "approvals cannot be checked by the server; enable MFA (an "
                        "authenticator app) in JumpServer's profile settings",
                    )
                response = await conn.request(
                    "POST",
                    CONFIRM,
                    json={"confirm_type": "mfa", "mfa_type": "otp", "secret_key": code},
                    allow=(400,),
                )
            finally:
                await conn.aclose()
            if response.status_code == 400:
                self._failures.append(time.time())
                detail = summarise_detail(parse_json(response)) or "the code is wrong"
                left = MAX_FAILURES - len(self._failures)
                raise CodeRefused(
                    f"JumpServer refused the code: {detail} ({max(left, 0)} tries left)",
                )
            self._used[key] = time.time()
            return "mfa"
