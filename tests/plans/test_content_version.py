"""Plan.content_version: every change of a row the plan's pages show bumps it in the
change's own transaction (kept sections are keyed by it), including changes that cannot
move the forecast (those leave data_version alone); reading pages bumps nothing, and a
plan of another region never moves."""

from datetime import date

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import (
    Bulletin,
    Department,
    Evidence,
    ForecastRun,
    Milestone,
    Notice,
    NoticeRound,
    Plan,
    PlanNode,
    ReminderPolicy,
    User,
)
from app.models.plan import node_department
from app.planio.links import sync_links
from tests.conftest import login
from tests.factories import add_report, build_world


def versions(code: str) -> tuple[int, int]:
    row = db.session.execute(select(Plan.content_version, Plan.data_version).where(Plan.code == code)).one()
    return tuple(row)


@pytest.fixture
def world(ctx):
    return build_world()


class Seen:
    """plan-a's (content, data) versions before a change; plan-b (another region) must not move."""

    def __init__(self):
        self.a, self.b = versions("plan-a"), versions("plan-b")

    def after(self) -> tuple[bool, bool]:
        assert versions("plan-b") == self.b, "another region's plan moved"
        now = versions("plan-a")
        return now[0] > self.a[0], now[1] > self.a[1]


def _milestone(w):
    return db.session.get(Milestone, w["m_police"])


def _notice(w):
    n = Notice(
        milestone_id=w["m_police"],
        department_id=db.session.get(User, w["police"]).department_id,
        issued_by_id=w["office"],
        text="请说明进度",
        reply_due=date(2021, 3, 20),
    )
    db.session.add(n)
    db.session.commit()
    return n


def _report(w, state="draft"):
    r = add_report(w["m_police"], w["police_dept"], w["police"], state, text="正在推进", percent=40)
    db.session.commit()
    return r


def _shown_only(change, w):
    seen = Seen()
    change(w)
    db.session.commit()
    assert seen.after() == (True, False)


def test_milestone_text_shows_without_moving_the_forecast(world):
    _shown_only(lambda w: setattr(_milestone(w), "text", "新的说明"), world)


def test_milestone_due_date_moves_both(world):
    seen = Seen()
    _milestone(world).due_date = date(2021, 6, 30)
    db.session.commit()
    assert seen.after() == (True, True)


def test_a_draft_report_and_its_edit_and_evidence(world):
    seen = Seen()
    r = _report(world)
    assert seen.after() == (True, False)
    seen = Seen()
    r.text = "已完成过半"
    db.session.commit()
    assert seen.after() == (True, False)
    seen = Seen()
    db.session.add(
        Evidence(
            report_id=r.id,
            milestone_id=world["m_police"],
            uploaded_by_id=world["police"],
            original_name="截图.png",
            stored_name="abc123.png",
            sha256="0" * 64,
            size=10,
            content_type="image/png",
        )
    )
    db.session.commit()
    assert seen.after() == (True, False)


def test_notice_issued_answered_and_its_round(world):
    seen = Seen()
    n = _notice(world)
    assert seen.after() == (True, False)
    seen = Seen()
    n.state = "acknowledged"
    db.session.commit()
    assert seen.after() == (True, False)
    seen = Seen()
    db.session.add(NoticeRound(notice_id=n.id, number=1, reply_text="已整改", replied_by_id=world["police"]))
    db.session.commit()
    assert seen.after() == (True, False)


def test_reminder_policy_forecast_run_and_bulletin(world):
    plan_id = db.session.scalar(select(Plan.id).where(Plan.code == "plan-a"))
    _shown_only(lambda w: db.session.add(ReminderPolicy(plan_id=plan_id, status_soon_days=10)), world)
    _shown_only(
        lambda w: db.session.add(
            ForecastRun(
                plan_id=plan_id,
                as_of=date(2021, 3, 15),
                target_date=date(2021, 10, 31),
                data_key="k1",
                result={},
            )
        ),
        world,
    )
    _shown_only(
        lambda w: db.session.add(
            Bulletin(
                plan_id=plan_id, kind="on_demand", week=date(2021, 3, 15), as_of=date(2021, 3, 15), data={}
            )
        ),
        world,
    )


def test_node_leader_and_departments(world):
    node = db.session.scalar(select(PlanNode).where(PlanNode.plan.has(code="plan-a")))
    _shown_only(lambda w: setattr(node, "leader_id", w["leader"]), world)
    # the leader as app/notify/leaders.py writes it: a Core UPDATE through the session
    _shown_only(
        lambda w: db.session.execute(
            update(PlanNode)
            .where(PlanNode.id == node.id)
            .values(leader_id=None)
            .execution_options(synchronize_session=False)
        ),
        world,
    )
    police = db.session.get(User, world["police"]).department_id
    _shown_only(lambda w: sync_links(node_department, "node_id", node.id, "department_id", [police]), world)


def test_department_of_the_region(world):
    """Any field of a department of the plan's region shows (names on the pages); its name
    also moves the forecast of the plans it leads in, through the admin's Core UPDATE too."""
    police = db.session.get(User, world["police"]).department_id
    region = db.session.get(Department, police).region_id
    _shown_only(lambda w: db.session.add(Department(region_id=region, name="甲市新部门")), world)
    seen = Seen()
    db.session.execute(
        update(Department)
        .where(Department.id == police)
        .values(name="甲市公安局（新）")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    assert seen.after() == (True, True)
    _shown_only(
        lambda w: db.session.execute(
            update(Department)
            .where(Department.id == police)
            .values(webhook_url="https://example.invalid/hook")
            .execution_options(synchronize_session=False)
        ),
        world,
    )


def test_rollback_undoes_the_bump(world):
    before = versions("plan-a")
    _milestone(world).text = "改了又撤回"
    db.session.flush()
    assert versions("plan-a")[0] == before[0] + 1  # in the change's own transaction
    db.session.rollback()
    assert versions("plan-a") == before


def test_reading_pages_bumps_nothing(world, app, client):
    db.session.commit()
    before = versions("plan-a"), versions("plan-b")
    login(client, "office")
    for path in (
        "/plans/plan-a",
        "/plans/plan-a/dashboard",
        "/plans/plan-a/stars",
        "/plans/plan-a/graph.json",
    ):
        assert client.get(path).status_code == 200, path
    login(client, "police")
    assert client.get("/my").status_code == 200
    db.session.expire_all()
    assert (versions("plan-a"), versions("plan-b")) == before


def test_a_key_read_in_a_request_moves_with_a_change_made_in_it(world, app):
    from app.plans.content_version import plan_key

    with app.test_request_context("/"):
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        before = plan_key(plan, date(2021, 3, 15))
        assert plan_key(plan.id, date(2021, 3, 15)) == before  # remembered for the request
        _milestone(world).text = "同一请求中的修改"
        db.session.flush()
        after = plan_key(plan, date(2021, 3, 15))
        assert after[2] == before[2] + 1
        db.session.rollback()


def test_once_per_transaction_and_again_after_a_rolled_back_savepoint(world):
    before = versions("plan-a")
    m = _milestone(world)
    m.text = "第一次"
    db.session.flush()
    m.text = "第二次"
    db.session.flush()
    assert versions("plan-a")[0] == before[0] + 1  # one transaction, one bump
    db.session.commit()

    before = versions("plan-a")
    with db.session.begin_nested() as savepoint:  # bumped inside a savepoint, then undone
        m.text = "保存点内"
        db.session.flush()
        assert versions("plan-a")[0] == before[0] + 1
        savepoint.rollback()
    assert versions("plan-a") == before
    m.text = "保存点外"
    db.session.flush()  # the outer transaction's own change bumps again
    assert versions("plan-a")[0] == before[0] + 1
    db.session.commit()
    assert versions("plan-a")[0] == before[0] + 1


def test_a_department_renamed_shows_in_every_plan_of_its_region_and_moves_only_those_it_leads_in(world):
    police = db.session.get(User, world["police"]).department_id
    region = db.session.get(Department, police).region_id
    db.session.add(
        Plan(
            region_id=region,
            code="plan-c",
            title="甲市第二计划",
            period_start=date(2020, 1, 1),
            period_end=date(2023, 12, 31),
        )
    )
    db.session.commit()
    other = versions("plan-c")
    seen = Seen()
    for rename in (  # through the ORM, then as the admin form does (a Core UPDATE)
        lambda: setattr(db.session.get(Department, police), "name", "甲市公安局（一）"),
        lambda: db.session.execute(
            update(Department)
            .where(Department.id == police)
            .values(name="甲市公安局（二）")
            .execution_options(synchronize_session=False)
        ),
    ):
        rename()
        db.session.commit()
        assert seen.after() == (True, True)  # plan-a: its milestones are led by the police
        now = versions("plan-c")
        assert now[0] > other[0] and now[1] == other[1]  # plan-c: shows the name, no forecast moves
        seen, other = Seen(), now
