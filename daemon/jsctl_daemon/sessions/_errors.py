"""Errors of the sessions layer, each with a message a person can act on."""

from __future__ import annotations

from jsctl_protocol import quote_input


class SessionError(Exception):
    """Base class: ``str(exc)`` is a sentence that names the problem and the next step."""


class UnknownSession(SessionError):
    """No session with that id or name."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no session {quote_input(ref)} — `jsctl sessions` lists them")
        self.ref = ref


class UnknownRun(SessionError):
    """No run with that id (it never existed or was forgotten)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"no run {quote_input(run_id)} — it never existed or is too old to be kept;"
            " `jsctl sessions` shows each session's current run"
        )
        self.run_id = run_id


class SessionLimitReached(SessionError):
    """Opening another session would exceed a configured limit."""


class SessionEnded(SessionError):
    """The session can no longer take input or run commands."""

    def __init__(self, session_id: str, state: str, reason: str | None) -> None:
        why = f": {reason}" if reason else ""
        super().__init__(
            f"session `{session_id}` is {state}{why} — open a new one with `jsctl shell`"
        )
        self.session_id = session_id


class SessionNotReady(SessionError):
    """The session is still connecting."""


class SessionBusy(SessionError):
    """The session's shell is not free for a command: nothing was typed into it."""

    def __init__(
        self, session_id: str, doing: str, last_lines: tuple[str, ...] = (), run_id: str = ""
    ) -> None:
        screen = ""
        if last_lines:
            screen = " Its screen ends with:\n" + "\n".join(f"  | {line}" for line in last_lines)
        super().__init__(
            f"session `{session_id}` is busy: {doing} — nothing was typed into it; wait for it,"
            f" answer or interrupt what runs there, or run on the asset instead (a session of"
            f" its own is used).{screen}"
        )
        self.session_id = session_id
        self.doing = doing
        self.run_id = run_id


class NameTaken(SessionError):
    """Another session already uses that name."""

    def __init__(self, name: str, holder: str) -> None:
        super().__init__(
            f"the name {quote_input(name)} is already used by session `{holder}`"
            " — pick another name"
            " or rename that session first"
        )


class InvalidName(SessionError):
    """A session name that cannot be used."""


class InvalidOffset(SessionError):
    """A read offset outside the session's output."""


class SessionPaused(SessionNotReady):
    """An administrator paused the session: KoKo drops input until it is resumed."""

    def __init__(self, session_id: str, by: object) -> None:
        who = f" by {by}" if by else ""
        super().__init__(
            f"session `{session_id}` is paused{who}: KoKo drops every keystroke until an "
            "administrator resumes it — nothing was typed; try again once `jsctl sessions` "
            "no longer shows it paused"
        )
        self.session_id = session_id
