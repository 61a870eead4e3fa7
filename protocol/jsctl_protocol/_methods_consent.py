"""Rows for consent: approval requests the person decides, and secrets only the person types."""

from __future__ import annotations

from ._table import Cli, Method, Param
from ._table import Permission as P

_approval_id = Param("id", "str", "approval request id (ap-NNNNN)", required=True, max_len=64)

CONSENT_METHODS: tuple[Method, ...] = (
    Method(
        "approval.list",
        "Approval requests waiting for the person (with `follow`, then every change).",
        (
            Param("all", "bool", "also decided requests"),
            Param("follow", "bool", "then stream new requests and decisions"),
        ),
        "{approvals: [{id, client, kind, asset, account, command, rule, state, age_s, ...}]}",
        P.HUMAN,
        streams="follow",
        cli=Cli("approvals", "consent_cmds", "List agents' calls waiting for your approval."),
    ),
    Method(
        "approval.decide",
        "Approve (with a fresh MFA code JumpServer verifies) or deny held requests.",
        (
            Param("ids", "list", "approval request ids", required=True),
            Param("approve", "bool", "true to approve, false to deny", required=True),
            Param("code", "str", "the person's current MFA code (needed to approve)", max_len=64),
            Param("reason", "str", "why (told to the agent)", max_len=1024),
        ),
        "{approvals: [...]}",
        P.HUMAN,
        cli=(
            Cli("approve", "consent_cmds", "Approve held agent calls (with an MFA code)."),
            Cli("deny", "consent_cmds", "Deny held agent calls, with a reason for the agent."),
        ),
    ),
    Method(
        "approval.get",
        "One approval request (an agent sees its own), waiting up to `wait` s for a decision.",
        (_approval_id, Param("wait", "float", "seconds to wait for a decision", minimum=0)),
        "{approval}",
        P.READ,
    ),
)

SECRET_METHODS: tuple[Method, ...] = (
    Method(
        "secret.send",
        "Type a secret at a session's password prompt; it never enters output, logs or audit.",
        (
            Param("session", "str", "session id or name", required=True, max_len=64),
            Param(
                "secret",
                "str",
                "the password or passphrase (one line)",
                required=True,
                max_len=4096,
            ),
            Param("force", "bool", "send even if no password prompt is recognised"),
        ),
        "{session, prompt, echoed}",
        P.HUMAN,
        cli=Cli("secret", "consent_cmds", "Answer a session's password prompt, unseen by agents."),
    ),
)
