"""The indicator value review: submitted → approved | returned (with a reason).

A returned value stays in the history; the department enters a new one. The
plan office's own entries are approved at once. Functions add to the session
and never commit: the request handler commits, then asks for a recompute.
"""

from datetime import date

from app import audit, clock
from app.dates import cn_date
from app.extensions import db
from app.models import Indicator, IndicatorValue, Notification, User
from app.models.indicator import VALUE_STATES
from workflows import reviewing, transitions
from workflows.transitions import TransitionError

TRANSITIONS = {("submitted", "approve"): "approved", ("submitted", "return"): "returned"}
ACTION_LABELS = {"approve": "确认", "return": "退回"}


def next_state(state: str, action: str) -> str:
    return transitions.next_state(
        TRANSITIONS, state, action, noun="该数值", states=VALUE_STATES, actions=ACTION_LABELS
    )


def _record(user, action: str, row: IndicatorValue, summary: str, before=None, after=None) -> None:
    audit.record(
        user, action, row, summary, before=before, after=after, region_id=row.indicator.plan.region_id
    )


def submit_value(
    ind: Indicator, value, as_of: date, source: str | None, note: str | None, user, shown: str
) -> IndicatorValue:
    """A new submitted value; `shown` is the value as people read it (for the audit trail)."""
    row = IndicatorValue(
        indicator=ind,
        as_of=as_of,
        value_number=None if isinstance(value, dict) else float(value),
        value_json=value if isinstance(value, dict) else None,
        source=source or None,
        note=note or None,
        state="submitted",
        entered_by_id=user.id,
        created_at=clock.event_time(),
    )
    db.session.add(row)
    who = user.department.name if user.department else user.display_name
    _record(
        user,
        "indicator_value.submit",
        row,
        f"{who}提交指标“{ind.name}”的数值：{shown}（截至 {cn_date(as_of)}）",
        after={"state": "submitted", "value": value, "as_of": as_of.isoformat()},
    )
    return row


SELF_REVIEW = "不能审核本人录入的指标数值：请由统筹部门的其他人员确认或退回。"


def _check_reviewer(row: IndicatorValue, reviewer, own_entry: bool = False) -> None:
    """Someone other than the person who entered a value reviews it. The one exception is
    the plan office's own entry, confirmed in the same request that enters it (own_entry)."""
    if not own_entry and row.entered_by_id is not None and row.entered_by_id == reviewer.id:
        raise TransitionError(SELF_REVIEW)


def approve_value(row: IndicatorValue, reviewer, *, own_entry: bool = False) -> None:
    """Confirm a submitted value; own_entry is for the plan office's entry confirmed as it is made."""
    _check_reviewer(row, reviewer, own_entry)
    row.state = next_state(row.state, "approve")
    row.reviewed_by_id = reviewer.id
    row.reviewed_at = clock.event_time()
    row.review_note = None
    db.session.flush()  # bumps the version, and fails if another reviewer got there first
    _record(
        reviewer,
        "indicator_value.approve",
        row,
        f"确认指标“{row.indicator.name}”的数值（截至 {cn_date(row.as_of)}）",
        before={"state": "submitted"},
        after={"state": "approved"},
    )
    if row.entered_by_id != reviewer.id:
        _notify_department(
            row, f"您提交的指标“{row.indicator.name}”数值（截至 {cn_date(row.as_of)}）已确认。"
        )


def return_value(row: IndicatorValue, reviewer, reason: str) -> None:
    reason = reviewing.required_reason(reason)
    _check_reviewer(row, reviewer)
    row.state = next_state(row.state, "return")
    row.reviewed_by_id = reviewer.id
    row.reviewed_at = clock.event_time()
    row.review_note = reason
    db.session.flush()
    _record(
        reviewer,
        "indicator_value.return",
        row,
        f"退回指标“{row.indicator.name}”的数值（截至 {cn_date(row.as_of)}）：{reason}",
        before={"state": "submitted"},
        after={"state": "returned", "reason": reason},
    )
    _notify_department(
        row, f"您提交的指标“{row.indicator.name}”数值（截至 {cn_date(row.as_of)}）被退回：{reason}"
    )


def _notify_department(row: IndicatorValue, text: str) -> None:
    """Every active user of the department that entered the value (else the one who did)."""
    author = db.session.get(User, row.entered_by_id) if row.entered_by_id else None
    if author is None:
        return
    link = f"/indicators/{row.indicator_id}"
    if author.department_id is not None:
        reviewing.notify_department(author.department_id, text, link)
    else:
        db.session.add(Notification(user_id=author.id, text=text, link=link))
