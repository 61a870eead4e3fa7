"""Errors of the auth domain: profiles that are missing or unclear, logins that cannot go on."""

from __future__ import annotations

from ..errors import DomainError


class AuthError(DomainError):
    """Base class of the auth domain's refusals."""


class NotLoggedIn(AuthError):
    """No profile yet, or the named one is not logged in: `jsctl login` is the way on."""


class UnknownProfile(AuthError):
    """No profile by that name."""


class BadLoginRequest(AuthError):
    """What a login or profile choice was given cannot work (names what to pass instead)."""


class LoginInProgress(AuthError):
    """Another terminal is logging this profile in."""


class LoginGone(AuthError):
    """The login was cancelled or timed out."""


class LoginRefused(AuthError):
    """The server refused a step; ``data`` says which and how to retry."""
