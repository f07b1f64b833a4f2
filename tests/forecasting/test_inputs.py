"""The forecast state from the database: values and milestone states known on a date."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.engines.scoring import ScoringError
from app.extensions import db
from app.forecasting.known import set_direct_value, standard_values
from app.forecasting.state import build_state
from app.models import AuditEvent, Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from tests.factories import build_world


def _value(ind, as_of, number, state="approved", reviewed=None):
    row = IndicatorValue(
        indicator_id=ind.id,
        as_of=as_of,
        value_number=number,
        state=state,
        reviewed_at=reviewed or datetime.combine(as_of, datetime.min.time()).replace(hour=9),
    )
    db.session.add(row)
    return row


@pytest.fixture
def world(ctx):
    w = build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    ind.standard_indicator = "5"
    db.session.commit()
    return w


def _plan():
    return db.session.scalar(select(Plan).where(Plan.code == "plan-a"))


def _ind(key="i1"):
    return db.session.scalar(select(Indicator).where(Indicator.key == key))


def test_latest_approved_value_known_on_the_date(world):
    ind = _ind()
    _value(ind, date(2021, 1, 1), 50)
    kept = _value(ind, date(2021, 3, 1), 70)
    _value(ind, date(2021, 3, 10), 99, state="submitted")
    _value(ind, date(2021, 3, 12), 98, state="returned")
    _value(ind, date(2021, 4, 1), 95)  # dated after the date
    _value(ind, date(2021, 3, 10), 96, reviewed=datetime(2021, 4, 2, 9))  # approved after the date
    db.session.commit()
    values, sources = standard_values(_plan(), date(2021, 3, 15))
    assert values == {"5": 70}
    assert sources["5"]["value_id"] == kept.id and sources["5"]["direct"] is False
    assert standard_values(_plan(), date(2021, 4, 30))[0] == {"5": 95}
    assert standard_values(_plan(), date(2020, 12, 31)) == ({}, {})


def test_several_indicators_on_one_number_take_the_higher_points(world):
    other = Indicator(plan_id=_plan().id, key="i2", name="联网率（分平台）", unit="%", standard_indicator="5")
    db.session.add(other)
    db.session.flush()
    _value(_ind(), date(2021, 3, 1), 20)
    _value(other, date(2021, 2, 1), 95)
    db.session.commit()
    values, sources = standard_values(_plan(), date(2021, 3, 15))
    assert values == {"5": 95} and sources["5"]["indicator_key"] == "i2"


def test_direct_values_fill_untracked_standard_indicators(world):
    office = db.session.get(User, world["office"])
    plan = _plan()
    set_direct_value(plan, "29", {"level": 3}, office, date(2021, 3, 1))
    set_direct_value(plan, "1", 85, office, date(2021, 3, 1))
    db.session.commit()
    values, sources = standard_values(plan, clock.today())
    assert values == {"29": {"level": 3}, "1": 85}
    assert sources["29"]["direct"] and sources["29"]["indicator_key"] == "std-29"
    assert _ind("std-29").table_name == "标准直填"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "indicator.direct_value")).all()
    assert len(events) == 2 and {e.region_id for e in events} == {plan.region_id}
    state, state_sources = build_state(plan, clock.today())
    assert {n: rows[-1]["value"] for n, rows in state["indicators"].items()} == {"29": {"level": 3}, "1": 85}
    assert state_sources["29"]["direct"] and state_sources["1"]["indicator_key"] == "std-1"
    with pytest.raises(ValueError, match="已由计划指标跟踪"):
        set_direct_value(plan, "5", 90, office, date(2021, 3, 1))
    with pytest.raises(ScoringError):
        set_direct_value(plan, "1", -5, office, date(2021, 3, 1))
    with pytest.raises(ValueError):
        set_direct_value(plan, "99", 1, office, date(2021, 3, 1))


def _report(m, percent, status, reviewed, author):
    db.session.add(
        ProgressReport(
            milestone_id=m.id,
            department_id=m.lead_department_id,
            author_id=author,
            kind="lead",
            text="进展",
            percent=percent,
            claimed_status=status,
            state="approved",
            reviewed_at=reviewed,
        )
    )


def _milestone(state, key):
    return next(m for m in state["milestones"] if m["id"] == key)


def test_back_testing_ignores_what_was_approved_later(app, world):
    m = db.session.get(Milestone, world["m_police"])
    _report(m, 30, "in_progress", datetime(2021, 2, 1, 9), world["police"])
    _report(m, 100, "done", datetime(2021, 3, 20, 9), world["police"])
    m.status, m.percent, m.actual_finish = "done", 100, date(2021, 3, 20)
    _value(_ind(), date(2021, 3, 1), 70)
    _value(_ind(), date(2021, 3, 18), 90)
    db.session.commit()
    early, _ = build_state(_plan(), clock.today())  # the fixture's clock: 2021-03-15
    row = _milestone(early, m.key)
    assert (row["finished"], row["percent"]) == (None, 30)
    assert early["indicators"]["5"] == [{"date": "2021-03-01", "value": 70}]
    assert early["as_of"] == "2021-03-15"
    old = app.config["STARPATH_AS_OF"]
    app.config["STARPATH_AS_OF"] = date(2021, 3, 25)
    try:
        late, _ = build_state(_plan(), clock.today())
    finally:
        app.config["STARPATH_AS_OF"] = old
    row = _milestone(late, m.key)
    assert (row["finished"], row["percent"]) == ("2021-03-20", 100)
    assert [r["value"] for r in late["indicators"]["5"]] == [70, 90]
    assert row["department"] == m.lead_department.name
    # linked to the indicator without a declared value: passed on, carrying no points
    assert row["delivers"] == [{"indicator": "5", "value": None}]
