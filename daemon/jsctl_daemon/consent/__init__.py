"""Consent: approval rules for agent clients, held calls, and the person's MFA-checked decision."""

from __future__ import annotations

from ._broker import APPROVED, DENIED, EXPIRED, PENDING, WITHDRAWN, Approval, ApprovalBroker
from ._errors import (
    ActionFailed,
    AlreadyDecided,
    ApprovalsLocked,
    BadCode,
    BadRule,
    CodeRefused,
    ConsentError,
    NotApproved,
    UnknownApproval,
)
from ._rules import KINDS, Action, Rule, first_match, parse_rule, read_only
from ._secrets import SecretFilter, is_control_only, prompt_of
from ._verify import CodeVerifier

__all__ = [
    "APPROVED",
    "DENIED",
    "EXPIRED",
    "KINDS",
    "PENDING",
    "WITHDRAWN",
    "Action",
    "ActionFailed",
    "AlreadyDecided",
    "Approval",
    "ApprovalBroker",
    "ApprovalsLocked",
    "BadCode",
    "BadRule",
    "CodeRefused",
    "CodeVerifier",
    "ConsentError",
    "NotApproved",
    "Rule",
    "SecretFilter",
    "UnknownApproval",
    "first_match",
    "is_control_only",
    "parse_rule",
    "prompt_of",
    "read_only",
]
