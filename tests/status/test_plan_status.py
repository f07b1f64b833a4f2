"""The 三色 status of a plan read from the database, and the pages that show it."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ForecastRun, Milestone, Notice, Plan, ProgressReport, ReminderPolicy
from app.status import plan_status
from tests.conftest import csrf_from, hidden, login
from tests.dashboard.html import parse
from tests.factories import build_world


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
    return w


def _status(app):
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        ps = plan_status(plan)
        return ps, {m.milestone.key: m for m in ps.rows.values()}


def test_colours_and_counts_on_the_clock_date(app, world):
    ps, rows = _status(app)
    assert rows["m2"].colour == "red" and rows["m2"].status.days_late == 15  # due 2021-02-28
    # m1 starts when its predecessor m2 was due (2021-02-28): 15 of 25 days gone = 60 %, reported 0 %.
    assert rows["m1"].colour == "yellow" and "进度 0%，落后序时进度 60%" in rows["m1"].status.reasons
    assert rows["m4"].colour == "blue"  # starts 2021-03-25, after today
    assert ps.counts.as_dict() == {"red": 1, "yellow": 2, "blue": 1, "done": 0, "total": 4}
    police = ps.by_department[world["police_dept"]]
    assert (police.red, police.yellow, police.blue) == (1, 1, 1)
    assert [r.milestone.key for r in ps.red_list()] == ["m2"]
    # What m2 holds up: m1 and, through it, m4.
    assert [m.key for m in rows["m2"].downstream] == ["m1", "m4"]
    assert sorted(r.milestone.key for r in ps.select("yellow")) == ["m1", "m3"]
    assert [r.milestone.key for r in ps.select(department_id=world["transport_dept"])] == ["m3"]


def test_forecast_late_returned_and_notice(app, world):
    with app.app_context():
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        m4 = db.session.get(Milestone, world["m_far"])
        m3 = db.session.get(Milestone, world["m_transport"])
        m3.percent = 50  # no longer behind 序时进度
        db.session.add(
            ForecastRun(
                plan_id=plan.id,
                as_of=date(2021, 3, 15),
                target_date=date(2021, 10, 31),
                data_key="k",
                result={
                    "keys": {"m4": m4.id},
                    "forecast": {
                        "milestones": [{"id": "m4", "forecast_finish": "2022-02-01", "p_finish": 0.2}]
                    },
                },
            )
        )
        db.session.commit()
    _, rows = _status(app)
    assert rows["m4"].colour == "red" and "晚于期限 32 天" in rows["m4"].status.reasons[0]
    assert rows["m4"].p_finish == 0.2
    assert rows["m3"].colour == "blue"
    with app.app_context():
        m3 = db.session.get(Milestone, world["m_transport"])
        db.session.add(
            ProgressReport(
                milestone=m3,
                department_id=world["transport_dept"],
                author_id=world["transport"],
                text="需补充材料",
                percent=50,
                claimed_status="in_progress",
                state="returned",
            )
        )
        db.session.commit()
    _, rows = _status(app)
    assert rows["m3"].colour == "yellow" and "汇报被退回，尚未重新提交" in rows["m3"].status.reasons
    assert rows["m3"].latest_report.text == "需补充材料"
    with app.app_context():
        m3 = db.session.get(Milestone, world["m_transport"])
        for r in db.session.scalars(select(ProgressReport)):
            r.state = "submitted"
        db.session.add(
            Notice(
                milestone=m3,
                department_id=world["transport_dept"],
                issued_by_id=world["leader"],
                text="请说明进度",
                reply_due=date(2021, 3, 20),
            )
        )
        db.session.commit()
    _, rows = _status(app)
    assert rows["m3"].colour == "yellow" and rows["m3"].status.reasons == ("督办未答复",)


def test_pages_show_the_colours_and_the_policy_sets_the_thresholds(app, client, world):
    login(client, "office")
    page = parse(client.get("/plans/plan-a").get_data(as_text=True))
    summary = page.one("plan-tricolour")
    assert [c.norm_text() for c in summary.iter() if c.get("data-colour")] == [
        "红 1",
        "黄 2",
        "蓝 1",
    ]
    assert "完成 0" in summary.norm_text()
    # Every count on the tree (plan and nodes) links to the dashboard's list of that many rows.
    links = [a for a in page.find_all("a") if a.get("data-colour") and "/dashboard/list" in a["href"]]
    assert len(links) == 6  # 3 colours for the plan, 3 for its one node
    for a in links:
        listed = parse(client.get(a["href"]).get_data(as_text=True))
        assert len(listed.find_all("tr", data_testid="item")) == int(a.norm_text().split()[1]), a["href"]
    milestone = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert "落后序时进度 60%" in milestone and "序时进度 60%（自 2021年2月28日 起算）" in milestone

    url = "/plans/plan-a/reminder-policy"
    data = {
        "csrf_token": csrf_from(client, url),
        "version": hidden(client, url, "version"),
        "before_days": "30,7,1,0",
        "overdue_every_days": "7",
        "escalate_overdue_days": "14",
        "escalate_returned_days": "5",
        "include_co_departments": "y",
        "escalate_notices": "y",
        "status_soon_days": "3",
        "status_behind_points": "70",
    }
    assert client.post(url, data=data).status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ReminderPolicy))
        assert (row.status_soon_days, row.status_behind_points) == (3, 70)
    _, rows = _status(app)
    assert rows["m1"].colour == "blue" and rows["m3"].colour == "blue"
    milestone = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert 'data-colour="blue"' in milestone.split('data-testid="milestone-tricolour"')[1][:200]


def test_my_work_shows_the_colour(client, world):
    login(client, "police")
    page = client.get("/my").get_data(as_text=True)
    table = page.split('data-testid="my-milestones"')[1].split("</table>")[0]
    assert table.count('data-colour="red"') == 1 and table.count('data-colour="yellow"') == 1
