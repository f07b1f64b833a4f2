"""`flask demo load`: both real plans, demo accounts and a progress state as of 2021-03-15."""

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.forecasting.known import standard_values
from app.models import Indicator, IndicatorValue, Milestone, Plan, ProgressReport, User
from tests.conftest import login

TABLES = (Milestone, ProgressReport, IndicatorValue, User)


def _counts():
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def test_demo_load_twice_and_what_it_shows(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "wh-office" in result.output and "demo-pass-2021" in result.output
    with app.app_context():
        first = _counts()
        ms = db.session.scalars(select(Milestone)).all()
        assert sum(m.status == "done" for m in ms) >= 10
        assert sum(m.status != "done" and m.due_date < date(2021, 3, 15) for m in ms) >= 3
        states = db.session.scalars(select(ProgressReport.state)).all()
        assert states.count("submitted") >= 3
        assert first["IndicatorValue"] > 0
        roles = set(db.session.scalars(select(User.role)))
        assert roles == {"plan_office", "department", "leading_group", "province", "admin"}
        _compound_values_are_per_part()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        assert _counts() == first

    app.extensions.pop("starpath_demo", None)  # the banner is decided once per process
    login(client, "wh-office", "demo-pass-2021")
    page = client.get("/review").get_data(as_text=True)
    assert "演示数据" in page and "待审核的进展汇报" in page
    app.extensions.pop("starpath_demo", None)


def _compound_values_are_per_part():
    """A compound indicator's demo values hold each part (counts whole, rates within 0–100);
    only the linked part reaches the standard."""
    compound = [i for i in db.session.scalars(select(Indicator)) if i.parts]
    assert len(compound) == 10
    seen = 0
    for ind in compound:
        units = {p["key"]: p["unit"] for p in ind.parts}
        for row in ind.values:
            seen += 1
            assert row.value_number is None and set(row.value_json) == set(units), ind.key
            for key, x in row.value_json.items():
                assert 0 <= x <= (100 if units[key] == "%" else 10**6), (ind.key, key)
                assert units[key] == "%" or x == int(x), (ind.key, key)
    assert seen >= 10
    plan = db.session.scalar(select(Plan).where(Plan.code == "weihai-1313"))
    values, sources = standard_values(plan, date(2021, 3, 15))
    bus = db.session.scalar(select(Indicator).where(Indicator.plan_id == plan.id, Indicator.key == "wh-i04"))
    latest = [r for r in bus.values if r.state == "approved"][-1].value_json
    assert values["14"] == latest["stops"] and sources["14"]["part"] == "stops"


def test_demo_loaded_on_the_real_clock_is_known_on_the_demo_date(app):
    """`make run` loads the demo before it pins the clock: every approved demo row must
    still be known on 2021-03-15, so the pinned pages show all of it."""
    from app.demo import DEMO_AS_OF
    from app.forecasting.known import end_of

    app.config["STARPATH_AS_OF"] = None
    try:
        assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    finally:
        app.config["STARPATH_AS_OF"] = DEMO_AS_OF
    with app.app_context():
        cutoff = end_of(DEMO_AS_OF)
        values = db.session.scalars(select(IndicatorValue).where(IndicatorValue.state == "approved")).all()
        assert values and all((v.reviewed_at or v.created_at) < cutoff for v in values)
        direct = [v for v in values if v.indicator.key.startswith("std-")]
        assert len(direct) >= 10
        reports = db.session.scalars(select(ProgressReport).where(ProgressReport.state == "approved")).all()
        assert reports and all(r.reviewed_at < cutoff for r in reports)
