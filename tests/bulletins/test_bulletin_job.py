"""Issuing 周报通报: once per plan and week from Monday 08:00 Beijing time (catching up
later in the week), the content stored as issued, changes since the previous bulletin
and the forecast a week before, messages to the leading group and named departments."""

import copy
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Bulletin, Milestone, Notification, Plan, User
from tests.bulletins.scenario import build_scenario, stored_run
from workflows import bulletins
from workflows.scheduler import periodic_jobs

D = date


@pytest.fixture
def sc(app):
    with app.app_context():
        ids = build_scenario()
        yield ids
        db.session.remove()


def count(**where) -> int:
    stmt = select(func.count(Bulletin.id))
    for k, v in where.items():
        stmt = stmt.where(getattr(Bulletin, k) == v)
    return db.session.scalar(stmt)


def test_weekly_once_per_plan_and_week_not_before_monday_eight(sc):
    assert bulletins.issue_weekly(datetime(2021, 3, 15, 7, 59)) == {"due": False, "issued": []}
    assert count() == 0
    first = bulletins.issue_weekly(datetime(2021, 3, 15, 8, 0))
    assert first["week"] == "2021-03-15" and len(first["issued"]) == 2  # plan-a and plan-b
    assert bulletins.issue_weekly(datetime(2021, 3, 15, 8, 15))["issued"] == []  # run twice: one row each
    assert bulletins.issue_weekly(datetime(2021, 3, 18, 9, 0))["issued"] == []  # later that week: nothing new
    assert count(kind="weekly") == 2
    assert count(plan_id=sc["plan_a"], week=D(2021, 3, 15)) == 1
    assert bulletins.issue_weekly(datetime(2021, 3, 22, 8, 0))["week"] == "2021-03-22"  # the next week
    assert count(kind="weekly") == 4


def test_a_scheduler_down_on_monday_catches_up_once_later_that_week(sc):
    got = bulletins.issue_weekly(datetime(2021, 3, 17, 6, 0))  # Wednesday, before 8: still due
    assert got["week"] == "2021-03-15" and len(got["issued"]) == 2
    b = db.session.scalar(select(Bulletin).where(Bulletin.plan_id == sc["plan_a"]))
    assert (b.week, b.as_of, b.issued_by_id) == (D(2021, 3, 15), D(2021, 3, 17), None)
    assert bulletins.issue_weekly(datetime(2021, 3, 21, 23, 0))["issued"] == []


def test_a_racing_run_finds_the_row_the_other_stored(sc, monkeypatch):
    plan = db.session.get(Plan, sc["plan_a"])
    first, _ = bulletins.issue(plan, "weekly", D(2021, 3, 15))
    notes = db.session.scalar(select(func.count(Notification.id)))
    real, calls = bulletins._existing, []

    def blind(*args, **kwargs):  # the racing run checked before the other's commit
        calls.append(1)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(bulletins, "_existing", blind)
    again, new = bulletins.issue(plan, "weekly", D(2021, 3, 16))
    assert not new and again.id == first.id and count(plan_id=plan.id) == 1
    assert db.session.scalar(select(func.count(Notification.id))) == notes  # its messages rolled back too
    monkeypatch.setattr(bulletins, "_existing", real)
    # on-demand ones may be issued any number of times in a week
    bulletins.issue(plan, "on_demand", D(2021, 3, 15))
    bulletins.issue(plan, "on_demand", D(2021, 3, 16))
    assert count(plan_id=plan.id, kind="on_demand") == 2


def test_weekly_job_reads_the_clock(sc, monkeypatch):
    monkeypatch.setattr(bulletins, "local_now", lambda: datetime(2021, 3, 15, 7, 0))
    assert bulletins.weekly_job()["due"] is False
    monkeypatch.setattr(bulletins, "local_now", lambda: datetime(2021, 3, 15, 8, 1))
    assert len(bulletins.weekly_job()["issued"]) == 2


def test_local_now_is_the_clock_date(sc):
    assert bulletins.local_now().date() == D(2021, 3, 15)


def test_the_scheduler_ticks_the_weekly_job():
    jobs = {j.name: j for j in periodic_jobs({})}
    job = jobs["bulletins-weekly"]
    assert job.func == "workflows.bulletins.weekly_job" and job.every_seconds == 900


def test_content_red_and_yellow_items_forecast_and_assessment(sc):
    plan = db.session.get(Plan, sc["plan_a"])
    b, _ = bulletins.issue(plan, "weekly", D(2021, 3, 15))
    data = b.data
    red = [i for i in data["items"] if i["colour"] == "red"]
    assert [i["title"] for i in red] == ["警务云建设"]
    assert (
        red[0]["days_late"] == 15 and red[0]["points_at_stake"] == 3 and red[0]["department"] == "甲市公安局"
    )
    assert red[0]["reasons"][0] == "逾期 15 天"
    assert all(i["colour"] in ("red", "yellow") for i in data["items"])
    assert data["counts"]["red"] == 1 and data["counts"]["yellow"] == sum(
        i["colour"] == "yellow" for i in data["items"]
    )
    assert data["forecast"]["p_target"] == 0.42 and data["forecast"]["p50"] == 341.5
    assert data["forecast"]["ceiling_total"] == 372
    police = next(r for r in data["assessment"]["rows"] if r["department_id"] == sc["police_dept"])
    assert (police["due"], police["on_time"], police["overdue"], police["points_at_stake"]) == (2, 1, 1, 3)
    assert data["changes"]["previous"] is None and data["changes"]["forecast"] is None
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "bulletin.issue"))
    assert audit.object_id == b.id and audit.region_id == plan.region_id


def test_changes_since_the_previous_bulletin_and_the_forecast_a_week_before(sc):
    plan = db.session.get(Plan, sc["plan_a"])
    # A week earlier: 视频平台升级 (due 3-25) is blue; the forecast a week before was 30 %.
    stored_run(plan.id, D(2021, 3, 8), 0.3, 330.0, "w")
    db.session.commit()
    earlier, _ = bulletins.issue(plan, "weekly", D(2021, 3, 8))
    colours = earlier.data["colours"]
    assert colours[str(sc["m_late"])] == "red" and colours[str(sc["m_police"])] != "red"
    # Since: 警务云建设 finished; 视频平台升级 now overdue by a changed due date.
    m_late = db.session.get(Milestone, sc["m_late"])
    m_late.status, m_late.percent, m_late.actual_finish = "done", 100, D(2021, 3, 12)
    m_police = db.session.get(Milestone, sc["m_police"])
    was = colours[str(sc["m_police"])]
    m_police.due_date = D(2021, 3, 12)
    db.session.commit()
    now, _ = bulletins.issue(plan, "weekly", D(2021, 3, 15))
    ch = now.data["changes"]
    assert ch["previous"]["id"] == earlier.id and ch["previous"]["as_of"] == "2021-03-08"
    assert [e["title"] for e in ch["newly_red"]] == ["视频平台升级"] and ch["newly_red"][0]["from"] == was
    assert [e["title"] for e in ch["no_longer_red"]] == ["警务云建设"]
    assert [e["title"] for e in ch["newly_done"]] == ["警务云建设"]
    f = ch["forecast"]
    assert (f["p_target_before"], f["p_target_now"], f["p50_before"], f["p50_now"]) == (
        0.3,
        0.42,
        330.0,
        341.5,
    )


def test_stored_content_does_not_change_when_the_plan_does(app, client, sc):
    from tests.conftest import login

    plan = db.session.get(Plan, sc["plan_a"])
    b, _ = bulletins.issue(plan, "weekly", D(2021, 3, 15))
    before = copy.deepcopy(b.data)
    m = db.session.get(Milestone, sc["m_late"])
    m.status, m.percent, m.actual_finish, m.title = "done", 100, D(2021, 3, 15), "警务云建设（已改名）"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Bulletin, b.id).data == before
    login(client, "leader")
    html = client.get(f"/bulletins/{b.id}").get_data(as_text=True)
    assert "警务云建设" in html and "已改名" not in html
    assert 'class="chip c-red">红 1<' in html


def test_messages_reach_the_leading_group_and_the_named_departments_only(sc):
    plan = db.session.get(Plan, sc["plan_a"])
    b, _ = bulletins.issue(plan, "weekly", D(2021, 3, 15))
    notes = db.session.scalars(select(Notification)).all()
    by_user = {n.user_id: n for n in notes}
    named = {i["department_id"] for i in b.data["items"]}
    assert named == {sc["police_dept"], sc["transport_dept"]}  # 公交大数据系统 is behind 序时进度
    # not the plan office (its department leads nothing here), nor other regions, admin, province
    assert set(by_user) == {sc["leader"], sc["police"], sc["transport"]}
    assert all(n.link == f"/bulletins/{b.id}" for n in notes)
    assert "红 1 项" in by_user[sc["leader"]].text
    assert "其中贵部门牵头：红 1 项" in by_user[sc["police"]].text
    # an inactive leader is not told; another region's leader never
    leader = db.session.get(User, sc["leader"])
    leader.active = False
    db.session.commit()
    bulletins.issue(plan, "on_demand", D(2021, 3, 15))
    assert (
        db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == sc["leader"]))
        == 1
    )


def test_a_retried_on_demand_job_stores_its_bulletin_once(sc):
    first = bulletins.issue_on_demand(sc["plan_a"], sc["leader"], "req-1")
    again = bulletins.issue_on_demand(sc["plan_a"], sc["leader"], "req-1")
    assert first["issued"] and not again["issued"] and first["bulletin_id"] == again["bulletin_id"]
    b = db.session.get(Bulletin, first["bulletin_id"])
    assert (b.kind, b.issued_by_id, b.as_of) == ("on_demand", sc["leader"], D(2021, 3, 15))
