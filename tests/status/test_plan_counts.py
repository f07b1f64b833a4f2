"""plan_counts (many plans at once, for the province view) agrees with plan_status per plan."""

from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import ForecastRun, Milestone, Notice, Plan, ProgressReport
from app.status import plan_status
from app.status.many_plans import latest_runs, milestone_statuses, plan_counts
from tests.factories import add_areas, build_matrix_world


def test_plan_counts_match_plan_status(ctx):
    w = build_matrix_world()
    add_areas(3)
    # A returned report, an open 督办 and a stored forecast that finishes m_transport late.
    db.session.add(
        ProgressReport(
            milestone_id=w["m_transport"],
            department_id=w["transport_dept"],
            author_id=w["transport"],
            kind="lead",
            text="退回",
            percent=10,
            claimed_status="in_progress",
            state="returned",
        )
    )
    db.session.add(
        Notice(
            milestone_id=w["m_transport"],
            department_id=w["transport_dept"],
            issued_by_id=w["leader"],
            text="请答复",
            reply_due=date(2021, 4, 1),
        )
    )
    m = db.session.get(Milestone, w["m_far"])
    db.session.add(
        ForecastRun(
            plan_id=w["plan_a"],
            as_of=date(2021, 3, 1),
            target_date=date(2021, 10, 31),
            data_key="x",
            result={
                "keys": {"m4": m.id},
                "forecast": {"milestones": [{"id": "m4", "forecast_finish": "2022-03-01"}]},
            },
        )
    )
    db.session.commit()
    today = date(2021, 3, 15)
    plans = db.session.scalars(select(Plan)).all()
    got = plan_counts([p.id for p in plans], today)
    for plan in plans:
        ps = plan_status(plan, today)
        assert got[plan.id].counts.as_dict() == ps.counts.as_dict(), plan.code
        assert got[plan.id].overdue == sum(1 for r in ps.rows.values() if r.status.days_late > 0)
    # Some milestones only (the /my page): the same Status as the whole plan's.
    whole = plan_status(db.session.get(Plan, w["plan_a"]), today).rows
    some = milestone_statuses(
        [w["plan_a"]], today, milestone_ids=[w["m_police"], w["m_far"], w["m_transport"]]
    )
    assert set(some) == {w["m_police"], w["m_far"], w["m_transport"]}
    assert all(st == whole[mid].status for mid, (_, st) in some.items())
    assert got[w["plan_a"]].counts.red >= 2  # m_late overdue, m_far forecast late
    run = db.session.scalar(select(ForecastRun).where(ForecastRun.data_key == "x"))
    digest = latest_runs([w["plan_a"]])[w["plan_a"]]
    assert (digest.id, digest.finish) == (run.id, {m.id: date(2022, 3, 1)})
    assert latest_runs([w["plan_a"]])[w["plan_a"]] is digest  # kept: a stored run never changes
    assert latest_runs([w["plan_a"]], on_or_before=date(2021, 2, 1)) == {}
