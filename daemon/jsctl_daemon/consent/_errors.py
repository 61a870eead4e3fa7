"""Errors of consent: rules that do not parse, requests refused, codes JumpServer turned down."""

from __future__ import annotations

from ..errors import DomainError


class ConsentError(DomainError):
    """Base class of consent's refusals."""


class BadRule(ConsentError):
    """A --confirm rule that does not parse (names what is wrong and the grammar)."""


class NotApproved(ConsentError):
    """The person denied the request, or nobody decided in time; ``data`` holds it."""


class UnknownApproval(ConsentError):
    """No approval request by that id (for this caller)."""


class AlreadyDecided(ConsentError):
    """The request was decided before."""


class BadCode(ConsentError):
    """What was given is not an authenticator code at all."""


class CodeRefused(ConsentError):
    """JumpServer refused the code, or it was spent, or the account cannot be checked."""


class ApprovalsLocked(ConsentError):
    """Too many wrong codes in a short time: approvals wait a while."""


class ActionFailed(ConsentError):
    """An approved action was carried out and failed; says how, as its caller would be told."""
