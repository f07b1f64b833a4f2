"""The demo's earlier forecasts (a week and a month before its date), for "since last
week / last month": stored by load_demo, each built only from what was known by its date,
and older than the current run, which stays the one pages read."""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.dates import from_local
from app.demo import DEMO_AS_OF, load_demo
from app.extensions import db
from app.forecasting.snapshot import gather, latest_run, store_snapshot
from app.models import Extension, ForecastRun, IndicatorValue, Milestone, Plan, ProgressReport, User
from app.status import plan_status

WEEK, MONTH = DEMO_AS_OF - timedelta(days=7), DEMO_AS_OF - timedelta(days=30)


def _at(day, hour=10):
    """A Beijing time of day on `day`, as stored (naive UTC)."""
    return from_local(datetime.combine(day, time(hour)))


def test_demo_stores_a_week_and_a_month_back(ctx):
    load_demo()
    db.session.commit()
    plans = db.session.scalars(select(Plan).order_by(Plan.code)).all()
    for plan in plans:
        runs = db.session.scalars(select(ForecastRun).where(ForecastRun.plan_id == plan.id)).all()
        # A month and a week back, then the demo date's own (the week's 周报通报 rests on it).
        assert sorted(r.as_of for r in runs) == [MONTH, WEEK, DEMO_AS_OF]
        assert all(r.samples == 10000 for r in runs)
        current, stored = store_snapshot(plan, DEMO_AS_OF)  # what `flask demo load` asks next
        assert not stored
        assert latest_run(plan).id == current.id == plan_status(plan, DEMO_AS_OF).run.id
    # loading again stores nothing more
    load_demo()
    db.session.commit()
    assert db.session.scalar(select(db.func.count(ForecastRun.id))) == 3 * len(plans)


def test_earlier_runs_rest_only_on_what_was_known_then(ctx):
    """Whatever happens after a run's date (approvals, values entered late, a milestone
    finished, an extension) leaves its inputs, and so its result, unchanged."""
    load_demo()
    db.session.commit()
    plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
    runs = {
        r.as_of: r
        for r in db.session.scalars(select(ForecastRun).where(ForecastRun.plan_id == plan.id))
        if r.as_of < DEMO_AS_OF  # the runs a week and a month back
    }
    for day, run in runs.items():
        assert gather(plan, day).key == run.data_key
    today_before = gather(plan, DEMO_AS_OF).key

    office = db.session.scalar(select(User).where(User.username == "wh-office"))
    # 1. the reports waiting on the demo date approved on it
    for r in db.session.scalars(
        select(ProgressReport)
        .join(Milestone)
        .where(Milestone.plan_id == plan.id, ProgressReport.state == "submitted")
    ):
        r.state, r.reviewed_by_id, r.reviewed_at = "approved", office.id, _at(DEMO_AS_OF)
    # 2. an open milestone finished two days ago, approved the same day
    m = db.session.scalar(
        select(Milestone)
        .where(Milestone.plan_id == plan.id, Milestone.status != "done")
        .order_by(Milestone.due_date)
        .limit(1)
    )
    m.status, m.percent, m.actual_finish = "done", 100, DEMO_AS_OF - timedelta(days=2)
    db.session.add(
        ProgressReport(
            milestone=m,
            department_id=m.lead_department_id,
            author_id=office.id,
            kind="lead",
            text="已完成。",
            percent=100,
            claimed_status="done",
            state="approved",
            submitted_at=_at(DEMO_AS_OF - timedelta(days=2)),
            reviewed_by_id=office.id,
            reviewed_at=_at(DEMO_AS_OF - timedelta(days=2), 15),
        )
    )
    # 3. waiting values approved today, and a value for a past date entered only today
    ind_id = None
    for v in db.session.scalars(
        select(IndicatorValue).where(
            IndicatorValue.state == "submitted", IndicatorValue.indicator.has(plan_id=plan.id)
        )
    ):
        v.state, v.reviewed_by_id, v.reviewed_at = "approved", office.id, _at(DEMO_AS_OF)
        ind_id = v.indicator_id
    assert ind_id is not None
    db.session.add(
        IndicatorValue(
            indicator_id=ind_id,
            as_of=MONTH - timedelta(days=10),
            value_number=99.0,
            source="补录",
            state="approved",
            entered_by_id=office.id,
            reviewed_by_id=office.id,
            created_at=_at(DEMO_AS_OF),
            reviewed_at=_at(DEMO_AS_OF),
        )
    )
    db.session.flush()
    assert gather(plan, DEMO_AS_OF).key != today_before  # these changes do count today…
    for day, run in runs.items():  # …and not a week or a month back
        assert gather(plan, day).key == run.data_key, day

    # 4. an extension granted today: the earlier states hold the same milestones with the
    # same due dates (the ones known then), in the same order (by id, not by the current
    # due date), so even the fingerprint of an earlier run does not move.
    late = db.session.scalar(
        select(Milestone)
        .where(Milestone.plan_id == plan.id, Milestone.status != "done", Milestone.due_date < DEMO_AS_OF)
        .limit(1)
    )
    old_due = late.due_date
    earlier = {day: _by_id(gather(plan, day).state) for day in runs}
    db.session.add(
        Extension(
            milestone_id=late.id,
            old_due=old_due,
            new_due=DEMO_AS_OF + timedelta(days=60),
            reason="延期",
            granted_by_id=office.id,
            created_at=_at(DEMO_AS_OF),
        )
    )
    late.due_date = DEMO_AS_OF + timedelta(days=60)
    db.session.flush()
    for day, run in runs.items():
        assert _by_id(gather(plan, day).state) == earlier[day], day
        assert gather(plan, day).key == run.data_key, day
    db.session.rollback()


def _by_id(state: dict) -> dict:
    return {**state, "milestones": sorted(state["milestones"], key=lambda m: m["id"])}
