"""Entering an indicator value: who may, and the one code path the page and the API share
(read the input as the page's form fields, check it with the scoring engine, store it as
submitted, and confirm it at once when the plan office enters it)."""

from __future__ import annotations

from datetime import date

from app import clock
from app.engines import limits
from app.forecasting.known import is_direct
from app.indicators import values
from app.models import Indicator, IndicatorValue
from app.permissions import has_permission
from workflows import indicator_review as value_review


def can_enter(user, ind: Indicator) -> bool:
    if is_direct(ind) or not has_permission(user, "enter_value"):
        return False
    if has_permission(user, "view_region"):
        return True
    return user.department_id in {d.id for d in ind.departments}


def as_of_problem(as_of: date | None) -> str | None:
    return limits.as_of_problem(as_of, clock.today()) if as_of else None


def read(ind: Indicator, raw) -> int | float | dict:
    """The value in `raw` (a mapping of the page's field names to text); ValueInputError if unusable."""
    spec = values.entry_spec(ind, values.plan_standard(ind.plan))
    value = values.read_value(spec, raw)
    values.validate(spec, value)
    return value


def enter(ind: Indicator, user, value, as_of: date, source: str, note: str) -> tuple[IndicatorValue, bool]:
    """Store the value (no commit); returns the row and whether it is already approved."""
    spec = values.entry_spec(ind, values.plan_standard(ind.plan))
    row = value_review.submit_value(
        ind,
        value,
        as_of,
        (source or "").strip(),
        (note or "").strip(),
        user,
        shown=values.describe(spec, value),
    )
    approved = has_permission(user, "review")
    if approved:  # the plan office is the reviewer: its own entry counts at once
        value_review.approve_value(row, user, own_entry=True)
    return row, approved
