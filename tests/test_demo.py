"""`flask demo load`: both real plans, demo accounts and a progress state as of 2021-03-15."""

import re
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
        assert roles == {"plan_office", "department", "leading_group", "province", "admin", "street"}
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


def test_demo_leaders_see_escalations_and_the_notice_loop(app, client):
    """After the demo's first scan and send, the leading group and the plan office have
    in-app escalations (the Weihai milestones 74 days overdue, the unanswered and the
    unacknowledged 督办); the 督办 page shows the loop in its states, 红 first."""
    from app.models import Notice, Notification, PlanNode
    from workflows.reminders_scan import scan
    from workflows.reminders_send import send_pending

    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    with app.app_context():
        states = sorted(db.session.scalars(select(Notice.state)))
        assert states == ["acknowledged", "answered", "issued", "issued", "returned"]
        late = db.session.scalars(
            select(Milestone)
            .join(Plan)
            .where(
                Plan.code == "weihai-1313", Milestone.status != "done", Milestone.due_date < date(2021, 3, 1)
            )
        ).all()
        assert len(late) == 8 and {(date(2021, 3, 15) - m.due_date).days for m in late} == {74}
        leader = db.session.scalar(select(User).where(User.username == "wh-leader"))
        # wh-leader answers for every top-level node of the Weihai plan, so for these milestones.
        assert {db.session.get(PlanNode, m.node_id).leader_id for m in late} <= {leader.id, None}
        scan(date(2021, 3, 15))
        send_pending()
        for username in ("wh-leader", "wh-office"):
            user = db.session.scalar(select(User).where(User.username == username))
            texts = " ".join(
                db.session.scalars(select(Notification.text).where(Notification.user_id == user.id))
            )
            for m in late:
                assert f"【督办升级】〔红〕{m.title}（已逾期 74 天）" in texts, (username, m.title)
            assert "督办单应于 2021年3月10日 前答复" in texts  # unanswered on its reply date
            assert "超过一个工作日未签收" in texts  # issued 3/11, not acknowledged
        zq_leader = db.session.scalar(select(User).where(User.username == "zq-leader"))
        zq = " ".join(
            db.session.scalars(select(Notification.text).where(Notification.user_id == zq_leader.id))
        )
        assert "威海" not in zq and "5G 基础设施建设" not in zq

    login(client, "wh-leader", "demo-pass-2021")
    page = client.get("/notifications").get_data(as_text=True)
    assert "【督办升级】" in page and "已逾期 74 天" in page
    page = client.get("/notices").get_data(as_text=True)
    # 红: unanswered past 3/10; 黄: reply due 3/18 (sent back) and 3/19; 蓝: answered, and due 3/25.
    counts = page.split('data-testid="notice-counts">')[1].split("</p>")[0]
    assert re.sub(r"<[^>]+>", "", counts) == "共 5 份：红 1 · 黄 2 · 蓝 2 · 完成 0 · 待我复核 1"
    assert page.index("工业互联网建设") < page.index("5G 基础设施建设")  # 红 before 蓝
    assert "已反馈，待复核" in page and "通过并办结" in page  # wh-leader issued the answered one
    login(client, "wh-industry", "demo-pass-2021")
    page = client.get("/my").get_data(as_text=True)
    assert "待答复的督办单（1）" in page and "签收" in page and "超过答复期限 5 天未答复" in page
