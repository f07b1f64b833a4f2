"""The reviewer's half shared by the progress report and community item state machines:
someone other than the author (four eyes) approves or returns a submitted object, which
records who and when, writes one audit row and tells the author's department. Each module
keeps its own table, messages and what approving does besides. Nothing here commits.
(Whether the page showed the current version is the route's check: app.locking.is_stale.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app import audit, clock
from app.extensions import db
from app.models import Notification, User
from workflows.transitions import TransitionError

NO_REASON = "退回时必须填写退回原因。"


@dataclass(frozen=True)
class Reviewed:
    """How one kind of object is reviewed."""

    audit_name: str  # audit actions are f"{audit_name}.approve" / ".return"
    next_state: Callable[[str, str], str]
    self_review: str  # the four-eyes refusal
    # Reports set the relationship; community items the id (their reviewer need not be in
    # the session).
    set_reviewer: Callable[[object, User], None]
    clear_reason_on_approve: bool = False
    # The audit row's region when the object names none itself (community items).
    region_of: Callable[[object], int | None] = lambda obj: None


def check_reviewer(kind: Reviewed, obj, reviewer: User) -> None:
    if reviewer.id is not None and reviewer.id == obj.author_id:
        raise TransitionError(kind.self_review)


def required_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(NO_REASON)
    return reason


# The audit summary comes as a function, called once the state has moved, as before.
Summary = Callable[[], str]


def approve(kind: Reviewed, obj, reviewer: User, summary: Summary, after: dict) -> None:
    check_reviewer(kind, obj, reviewer)
    obj.state = kind.next_state(obj.state, "approve")
    kind.set_reviewer(obj, reviewer)
    obj.reviewed_at = clock.event_time()
    if kind.clear_reason_on_approve:
        obj.return_reason = None
    audit.record(
        reviewer,
        f"{kind.audit_name}.approve",
        obj,
        summary(),
        before={"state": "submitted"},
        after=after,
        region_id=kind.region_of(obj),
    )


def return_(kind: Reviewed, obj, reviewer: User, reason: str, summary: Summary) -> None:
    """Return with a reason already checked by required_reason (the summary names it)."""
    check_reviewer(kind, obj, reviewer)
    obj.state = kind.next_state(obj.state, "return")
    obj.return_reason = reason
    kind.set_reviewer(obj, reviewer)
    obj.reviewed_at = clock.event_time()
    audit.record(
        reviewer,
        f"{kind.audit_name}.return",
        obj,
        summary(),
        before={"state": "submitted"},
        after={"state": "returned", "reason": reason},
        region_id=kind.region_of(obj),
    )


def notify_department(department_id: int, text: str, link: str) -> None:
    """A notification for every active user of the department (the author's side)."""
    for user in db.session.scalars(
        db.select(User).where(User.department_id == department_id, User.active.is_(True))
    ):
        db.session.add(Notification(user_id=user.id, text=text, link=link))
