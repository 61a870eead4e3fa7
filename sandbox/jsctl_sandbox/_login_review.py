"""Login ACL review ("login confirm", sheet 3.6): tickets a half-logged-in session waits on."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ._model import User
from ._sessions import Session
from ._state import Ticket

if TYPE_CHECKING:
    from ._state import SandboxState

LOGIN_CONFIRM = "login_confirm"
REQUIRED_KEY = "auth_confirm_required"  # set by the password step when an ACL says review
TICKET_KEY = "auth_ticket_id"
WAIT_MSG = "Wait login confirm ticket for accept"
# The state labels the error message quotes were renamed in 4.10.16.
_LABELS_OLD = {
    "pending": "Open",
    "approved": "Approved",
    "rejected": "Rejected",
    "closed": "Cancel",
}
_LABELS_NEW = {
    "pending": "Ticket open",
    "approved": "Ticket approved",
    "rejected": "Ticket rejected",
    "closed": "Ticket closed",
}

ReviewBody = dict[str, Any]


def mark_if_reviewed(state: SandboxState, session: Session, user: User) -> None:
    """After a passed password step: remember that this login needs an administrator."""
    if user.username in state.login_review_users:
        session.set(REQUIRED_KEY, True)


def forget(session: Session) -> None:
    """Drop the review marks once the login is finished."""
    session.pop(REQUIRED_KEY)
    session.pop(TICKET_KEY)


def state_label(state: SandboxState, ticket_state: str) -> str:
    """How the version names a ticket state in `Login confirm ticket was <label>`."""
    labels = _LABELS_NEW if state.version.at_least(4, 10, 16) else _LABELS_OLD
    return labels.get(ticket_state, ticket_state)


def session_ticket(state: SandboxState, session: Session) -> Ticket | None:
    """The login ticket this session waits on, if any."""
    return state.tickets.get(str(session.get(TICKET_KEY) or ""))


def _open_ticket(state: SandboxState, session: Session, user: User) -> Ticket:
    ticket = Ticket(
        id=str(uuid.uuid4()),
        title=f"Login confirm {user.display}",
        applicant_id=user.id,
        token_id="",
        date_created=state.clock.now(),
        kind=LOGIN_CONFIRM,
    )
    state.tickets[ticket.id] = ticket
    session.set(TICKET_KEY, ticket.id)
    state.counters["login_review_tickets"] += 1
    return ticket


def _error(ticket_id: str, label: str, username: str) -> ReviewBody:
    return {
        "error": "login_confirm_error",
        "msg": f"Login confirm ticket was {label}",
        "data": {"ticket_id": ticket_id, "username": username},
    }


def ticket_outcome(state: SandboxState, session: Session) -> ReviewBody | None:
    """None once approved (the mark is cleared); else the wait or error body."""
    ticket = session_ticket(state, session)
    if ticket is None:
        return _error("", "Not found", "")
    if ticket.state == "approved":
        session.pop(REQUIRED_KEY)
        return None
    if ticket.status == "open":
        return {"error": "login_confirm_wait", "msg": WAIT_MSG, "data": {"ticket_id": ticket.id}}
    applicant = state.directory.users.get(ticket.applicant_id)
    label = state_label(state, ticket.state)
    return _error(ticket.id, label, applicant.username if applicant else "")


def review_if_needed(state: SandboxState, session: Session, user: User) -> ReviewBody | None:
    """The guard's and token API's check: None when no review is (still) needed."""
    if not session.get(REQUIRED_KEY) or user.username not in state.login_review_users:
        return None
    ticket = session_ticket(state, session)
    if ticket is None or ticket.state == "closed":
        _open_ticket(state, session, user)
    return ticket_outcome(state, session)


def cancel(state: SandboxState, session: Session) -> bool:
    """The applicant withdraws: the session forgets the ticket, which closes unless it
    already was (then False: the server answers 400 `Ticket already closed`)."""
    ticket = session_ticket(state, session)
    if ticket is None:
        return True
    session.pop(TICKET_KEY)
    if ticket.status != "open":
        return False
    ticket.state, ticket.status = "closed", "closed"
    return True


def wait_page_message(state: SandboxState, session: Session) -> str:
    """The text of /core/auth/login/wait-confirm/."""
    ticket = session_ticket(state, session)
    if ticket is None:
        return "No ticket found"
    return (
        "Wait for Administrator(admin) to confirm; you can also send them the link "
        f"/ui/#/tickets/tickets/{ticket.id}?type={ticket.kind}. Don't close this page"
    )
