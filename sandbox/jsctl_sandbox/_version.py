"""The server version switch: which wire behaviours the sandbox imitates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerVersion:
    """A JumpServer version such as 4.10.16, with the behaviour flags derived from it."""

    text: str

    @property
    def parts(self) -> tuple[int, ...]:
        """The version as a comparable tuple of integers."""
        return tuple(int(p) for p in self.text.split(".") if p.isdigit())

    def at_least(self, *version: int) -> bool:
        """True when this version is at or after ``version``."""
        return self.parts >= version

    @property
    def password_separator(self) -> str:
        """Separator between the RSA key cipher and the AES password cipher (sheet 3.3)."""
        return "::encrypted::" if self.at_least(4, 10, 19) else ":"

    @property
    def has_session_encrypt_js(self) -> bool:
        """Whether /static/js/session-encrypt.js exists."""
        return self.at_least(4, 10, 17)

    @property
    def user_session_has_body(self) -> bool:
        """v4.3+ answers user-session with {"ok":true} / 403."""
        return self.at_least(4, 3)

    @property
    def zone_field(self) -> str:
        """Name of the asset's network-zone field."""
        return "zone" if self.at_least(4, 10) else "domain"

    @property
    def signature_first(self) -> bool:
        """From 4.10.14 the Signature authenticator comes first (and gives the 401 challenge)."""
        return self.at_least(4, 10, 14)

    @property
    def throttle_rates(self) -> tuple[int, int] | None:
        """(anonymous, user) requests per minute, or None before DRF throttling existed."""
        if not self.at_least(4, 10, 15):
            return None
        if self.at_least(4, 10, 17):
            return (2048, 4096)
        return (60, 180)

    @property
    def flat_token_errors(self) -> bool:
        """4.10.17+ flattens connection-token validation errors to {"detail": ...}."""
        return self.at_least(4, 10, 17)

    @property
    def has_q_search(self) -> bool:
        """4.10.13+ accepts ?q= besides ?search=."""
        return self.at_least(4, 10, 13)

    @property
    def unpaged_cap(self) -> int | None:
        """4.10.8+ caps unpaginated lists at 200 items."""
        return 200 if self.at_least(4, 10, 8) else None

    @property
    def max_limit(self) -> int:
        """Largest honoured ``limit``."""
        return 1000 if self.at_least(4, 10, 8) else 10000

    @property
    def has_date_expired_on_accounts(self) -> bool:
        """permed_accounts[].date_expired exists from 4.10.5."""
        return self.at_least(4, 10, 5)

    @property
    def has_sftp_socket(self) -> bool:
        """``/koko/ws/sftp/`` exists from v4.8.0 (elFinder only before)."""
        return self.at_least(4, 8)

    @property
    def sftp_shares_request(self) -> bool:
        """From v4.9.0 KoKo's sftp handler keeps the newest request in one shared field
        (``h.msg``) that every in-flight request reads its command and data from."""
        return self.at_least(4, 9)

    @property
    def sftp_upload_replies_ok(self) -> bool:
        """A whole-file upload replies ``"ok"`` from v4.10.2 (the path before)."""
        return self.at_least(4, 10, 2)

    @property
    def sftp_session_gone_close(self) -> bool:
        """``CLOSE`` ``Session expired or not found`` once the SFTP session ended (v4.10.2+)."""
        return self.at_least(4, 10, 2)

    @property
    def koko_header_auth(self) -> bool:
        """v5 KoKo also takes access-key headers and connect tickets (SERVER-V5.md)."""
        return self.at_least(5)

    @property
    def is_v4(self) -> bool:
        """Whether this is a v4 server."""
        return self.at_least(4)
