"""Target attainment: met / not met per band and the weighted attainment %."""

from datetime import date, datetime

from sqlalchemy import select

from app.extensions import db
from app.forecasting.attainment import attainment
from app.models import Indicator, IndicatorValue, Plan
from tests.factories import build_world


def _ind(plan, key, op=">=", value=None, weight=None, text="目标"):
    ind = Indicator(
        plan_id=plan.id,
        key=key,
        name=key,
        unit="%",
        four_star_target=text,
        four_star_op=op if value is not None else None,
        four_star_value=value,
        four_star_due=date(2021, 10, 31),
        weight_four_star=weight,
    )
    db.session.add(ind)
    db.session.flush()
    return ind


def _value(ind, as_of, number=None, level=None):
    db.session.add(
        IndicatorValue(
            indicator_id=ind.id,
            as_of=as_of,
            value_number=number,
            value_json={"level": level} if level is not None else None,
            state="approved",
            reviewed_at=datetime(as_of.year, as_of.month, as_of.day, 9),
        )
    )


def _statuses(result):
    return {row["key"]: row["four_star"]["status"] for row in result["indicators"] if row["four_star"]}


def test_weighted_attainment(ctx):
    build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    i1 = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))  # >= 90, no weight
    a = _ind(plan, "a", value=80, weight=2)
    b = _ind(plan, "b", value=80, weight=1)
    c = _ind(plan, "c", weight=1)  # descriptive, no level value: unknown
    _value(i1, date(2021, 3, 1), 95)
    _value(a, date(2021, 3, 1), 85)
    _value(b, date(2021, 3, 1), 70)
    _value(b, date(2021, 4, 1), 99)  # after the clock date: not known yet
    db.session.commit()
    result = attainment(plan, date(2021, 3, 15))
    assert _statuses(result) == {"i1": "met", "a": "met", "b": "not_met", "c": "unknown"}
    band = result["bands"]["4"]
    assert band["weighted"] is True
    assert band["attainment_pct"] == 50.0  # (2 + 0) / (0 + 2 + 1 + 1); i1 has no weight: 0
    later = attainment(plan, date(2021, 5, 1))
    assert later["bands"]["4"]["attainment_pct"] == 75.0
    _value(c, date(2021, 4, 15), level=4)
    db.session.commit()
    assert attainment(plan, date(2021, 5, 1))["bands"]["4"]["attainment_pct"] == 100.0
    assert result["bands"]["5"]["indicators"] == 0


def test_equal_weights_when_the_plan_gives_none(ctx):
    build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-b"))
    met = _ind(plan, "met", value=50)
    short = _ind(plan, "short", op="<=", value=3)
    level = _ind(plan, "level")
    _ind(plan, "none", value=10)  # no value at all
    _value(met, date(2021, 1, 1), 60)
    _value(short, date(2021, 1, 1), 5)
    _value(level, date(2021, 1, 1), level=3)
    db.session.commit()
    result = attainment(plan, date(2021, 3, 15))
    assert _statuses(result) == {"met": "met", "short": "not_met", "level": "not_met", "none": "no_value"}
    band = result["bands"]["4"]
    assert band["weighted"] is False and band["attainment_pct"] == 25.0
    assert (band["met"], band["not_met"], band["no_value"]) == (1, 2, 1)
