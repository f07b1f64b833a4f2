"""data_time: the newest approval a plan's computation could see, read from the plan's
own reports and values only (another plan's later approvals never count), up to the
end of the as-of date; the same figure as the former query over the joined tables."""

from datetime import date, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.forecasting.known import end_of
from app.forecasting.snapshot import data_time
from app.models import Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from tests.factories import build_world


def _approved(world, milestone, dept, at):
    user = db.session.get(User, world[dept])
    db.session.add(
        ProgressReport(
            milestone_id=world[milestone],
            department_id=user.department_id,
            author_id=user.id,
            kind="lead",
            text="进展",
            percent=50,
            claimed_status="in_progress",
            state="approved",
            reviewed_at=at,
        )
    )


def _reference(plan, as_of):
    """The former query (a join over every report), kept here as the oracle."""
    cutoff = end_of(as_of)
    reports = db.session.scalar(
        select(func.max(ProgressReport.reviewed_at))
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            ProgressReport.state == "approved",
            ProgressReport.reviewed_at <= cutoff,
        )
    )
    reviewed = func.coalesce(IndicatorValue.reviewed_at, IndicatorValue.created_at)
    values = db.session.scalar(
        select(func.max(reviewed))
        .join(Indicator)
        .where(Indicator.plan_id == plan.id, IndicatorValue.state == "approved", reviewed <= cutoff)
    )
    known = [t for t in (reports, values) if t is not None]
    return max(known) if known else None


def test_only_the_plans_own_approvals_up_to_the_date(ctx):
    w = build_world()
    a = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    b = db.session.scalar(select(Plan).where(Plan.code == "plan-b"))
    assert data_time(a, date(2021, 3, 15)) is None
    _approved(w, "m_police", "police", datetime(2021, 3, 10, 2, 0))
    _approved(w, "m_late", "police", datetime(2021, 3, 12, 3, 0))
    _approved(w, "m_transport", "transport", datetime(2021, 3, 20, 3, 0))  # after the as-of date
    _approved(w, "m_other", "other", datetime(2021, 3, 14, 9, 0))  # another plan
    ind = db.session.scalar(select(Indicator).where(Indicator.plan_id == a.id))
    db.session.add(
        IndicatorValue(
            indicator_id=ind.id,
            as_of=date(2021, 3, 1),
            value_number=80,
            state="approved",
            reviewed_at=datetime(2021, 3, 13, 1, 0),
        )
    )
    db.session.add(  # submitted, not approved: never counts
        IndicatorValue(indicator_id=ind.id, as_of=date(2021, 3, 2), value_number=81, state="submitted")
    )
    db.session.commit()
    assert data_time(a, date(2021, 3, 15)) == datetime(2021, 3, 13, 1, 0)
    assert data_time(a, date(2021, 3, 11)) == datetime(2021, 3, 10, 2, 0)
    assert data_time(a, date(2021, 3, 25)) == datetime(2021, 3, 20, 3, 0)
    assert data_time(b, date(2021, 3, 15)) == datetime(2021, 3, 14, 9, 0)
    for plan in (a, b):
        for day in (date(2021, 3, 9), date(2021, 3, 11), date(2021, 3, 15), date(2021, 3, 25)):
            assert data_time(plan, day) == _reference(plan, day)
