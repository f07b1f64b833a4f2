"""The plan office edits a milestone: name, text, lead and co-departments, due date
(an extension or 提前 with its reason), each change audited, all or nothing."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Department, Extension, Milestone, ProgressReport, User
from app.models.plan import milestone_co_department
from app.review import routes as review_routes
from tests.conftest import csrf_from, hidden, login
from tests.factories import build_world
from workflows import review


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


@pytest.fixture
def recomputes(monkeypatch):
    calls = []
    monkeypatch.setattr(review_routes, "request_recompute", calls.append)
    return calls


def url(w):
    return f"/milestones/{w['m_police']}/edit"


def add_dept(name: str, region_key: str, w) -> int:
    d = Department(region_id=w[region_key], name=name)
    db.session.add(d)
    db.session.commit()
    return d.id


def form_of(client, w, **changes) -> dict:
    """The edit form as the page draws it, with `changes` applied (co: a list of ids)."""
    page = client.get(url(w)).get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(client, url(w)),
        "version": hidden(client, url(w), "version"),
        "title": re.search(r'name="title"[^>]*value="([^"]*)"', page).group(1),
        "text": re.search(r'<textarea[^>]*name="text"[^>]*>\s*([^<]*)</textarea>', page).group(1).strip(),
        "lead_department_id": re.search(
            r'name="lead_department_id">.*?<option selected value="(\d+)"', page, re.S
        ).group(1),
        "due_date": re.search(r'name="due_date"[^>]*value="([^"]*)"', page).group(1),
        "reason": "",
    }
    co = re.findall(
        r'name="co_departments-(\d+)">.*?(?:<option selected value="(\d*)"|</select>)', page, re.S
    )
    data |= {f"co_departments-{i}": v for i, v in co}
    if "co" in changes:
        rows = len(co)
        ids = changes.pop("co")
        for i in range(max(rows, len(ids))):
            data[f"co_departments-{i}"] = str(ids[i]) if i < len(ids) else ""
    data |= {k: str(v) for k, v in changes.items()}
    return data


def milestone_events() -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("milestone.%"))).all()


def co_ids(milestone_id) -> list[int]:
    rows = db.session.execute(
        select(milestone_co_department.c.department_id)
        .where(milestone_co_department.c.milestone_id == milestone_id)
        .order_by(milestone_co_department.c.position)
    )
    return [r[0] for r in rows]


def test_page_offers_region_departments_and_current_values(client, app, world):
    login(client, "office")
    page = client.get(url(world)).get_data(as_text=True)
    assert "牵头部门" in page and "配合部门" in page and "完成期限" in page
    assert "甲市公安局" in page and "甲市交通运输局" in page
    assert "乙县大数据局" not in page  # another region's department is no choice
    assert "2021年3月25日" in page  # the current due date, in Chinese
    data = form_of(client, world)
    assert data["due_date"] == "2021-03-25"
    assert data["lead_department_id"] == str(world["police_dept"])
    assert data["co_departments-0"] == str(world["transport_dept"])


def test_department_and_leader_cannot_edit_and_other_region_gets_404(client, app, world):
    login(client, "police")
    assert client.get(url(world)).status_code == 403
    login(client, "other_office")
    assert client.get(url(world)).status_code == 404


def test_lead_and_ordered_co_departments_are_saved_and_audited(client, app, world, recomputes):
    with app.app_context():
        office_dept = db.session.scalar(select(Department.id).where(Department.name == "甲市大数据中心"))
        extra = add_dept("甲市工信局", "region_a", world)
    login(client, "office")
    data = form_of(
        client,
        world,
        lead_department_id=world["transport_dept"],
        co=[extra, world["police_dept"], office_dept],
    )
    response = client.post(url(world), data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        assert m.lead_department_id == world["transport_dept"]
        assert co_ids(m.id) == [extra, world["police_dept"], office_dept]  # the order given
        assert [d.name for d in m.co_departments] == ["甲市工信局", "甲市公安局", "甲市大数据中心"]
        assert m.due_date == date(2021, 3, 25) and not m.extensions
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.edit")).one()
        assert event.user_id == world["office"] and event.milestone_id == m.id
        assert event.before["lead_department"] == {"id": world["police_dept"], "name": "甲市公安局"}
        assert event.after["lead_department"] == {"id": world["transport_dept"], "name": "甲市交通运输局"}
        assert event.before["co_departments"] == [{"id": world["transport_dept"], "name": "甲市交通运输局"}]
        assert [d["name"] for d in event.after["co_departments"]] == [
            "甲市工信局",
            "甲市公安局",
            "甲市大数据中心",
        ]
        assert event.after["version"] > event.before["version"]
    assert recomputes == [_plan_id(app, world)]
    # The department now sees it as lead; the old lead as co.
    login(client, "transport")
    assert "汇报进展" in client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)


def _plan_id(app, w):
    with app.app_context():
        return db.session.get(Milestone, w["m_police"]).plan_id


def test_due_date_change_is_an_extension_with_reason(client, app, world, recomputes):
    login(client, "office")
    data = form_of(client, world, due_date="2021-06-30")
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "修改完成期限（延期）须填写理由" in page
    with app.app_context():
        assert db.session.scalar(select(Extension)) is None
    data = form_of(client, world, due_date="2021-06-30", reason="设备到货推迟")
    assert client.post(url(world), data=data).status_code == 302
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        assert (m.due_date, m.baseline_due_date) == (date(2021, 6, 30), date(2021, 3, 25))
        ext = db.session.scalars(select(Extension)).one()
        assert (ext.old_due, ext.new_due, ext.reason) == (
            date(2021, 3, 25),
            date(2021, 6, 30),
            "设备到货推迟",
        )
        assert ext.granted_by_id == world["office"]
        extend = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.extend")).one()
        assert extend.summary.startswith("延期至 2021年6月30日") and "设备到货推迟" in extend.summary
        edit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.edit")).one()
        assert (edit.before["due_date"], edit.after["due_date"]) == ("2021-03-25", "2021-06-30")
        assert edit.after["baseline_due_date"] == "2021-03-25"
    assert len(recomputes) == 1
    page = client.get(f"/milestones/{world['m_police']}").get_data(as_text=True)
    assert "2021年6月30日" in page and "已延期" in page


def test_earlier_due_date_is_recorded_as_tiqian(client, app, world):
    login(client, "office")
    data = form_of(client, world, due_date="2021-03-20", reason="任务提前完成验收")
    assert client.post(url(world), data=data).status_code == 302
    with app.app_context():
        ext = db.session.scalars(select(Extension)).one()
        assert ext.new_due == date(2021, 3, 20) and ext.reason == "任务提前完成验收"
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "milestone.extend")).one()
        assert event.summary.startswith("提前至 2021年3月20日")


@pytest.mark.parametrize("due", ["2019-12-31", "2024-01-01"])
def test_due_date_outside_the_plan_period_is_refused(client, app, world, due):
    login(client, "office")
    data = form_of(client, world, due_date=due, reason="调整", title="新名称")
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "超出允许范围" in page and "（2020年1月1日至2023年12月31日）" in page
    assert "计划结束后一年内" in page
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        assert (m.title, m.due_date, m.version) == (
            "视频平台升级",
            date(2021, 3, 25),
            1,
        )  # nothing half-written
        assert db.session.scalar(select(Extension)) is None
        assert not milestone_events()


def test_bad_department_choices_are_refused_in_chinese(client, app, world):
    login(client, "office")
    data = form_of(client, world, co=[world["police_dept"]])  # the lead as co-department
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "“甲市公安局”已是牵头部门，不能同时作为配合部门" in page
    data = form_of(client, world, co=[world["transport_dept"], world["transport_dept"]])
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "配合部门“甲市交通运输局”重复" in page
    data = form_of(client, world, co=[world["other_dept"]])  # another region's department
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "配合部门应为本地区的部门" in page
    data = form_of(client, world, lead_department_id=world["other_dept"])
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "牵头部门应为本地区的部门" in page
    data = form_of(client, world, lead_department_id="x1")  # a forged value
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "“x1”不是有效的部门，请从列表中选择。" in page and "Invalid Choice" not in page
    page = client.post(url(world), data=form_of(client, world, due_date="")).get_data(as_text=True)
    assert "请填写完成期限" in page
    page = client.post(url(world), data=form_of(client, world, due_date="2021-02-30")).get_data(as_text=True)
    assert "“2021-02-30” 不是有效日期" in page
    with app.app_context():
        assert co_ids(world["m_police"]) == [world["transport_dept"]]
        assert db.session.get(Milestone, world["m_police"]).lead_department_id == world["police_dept"]
        assert not milestone_events()


def _submitted_part_report(w):
    author = db.session.scalar(select(User).where(User.username == "transport"))
    r = ProgressReport(
        milestone=db.session.get(Milestone, w["m_police"]),
        department_id=author.department_id,
        author_id=author.id,
        kind="part",
        text="配合完成",
        percent=50,
        claimed_status="in_progress",
        state="draft",
    )
    db.session.add(r)
    review.submit(r, author)
    db.session.commit()
    return r.id


def test_department_with_a_pending_report_cannot_be_removed(client, app, world):
    with app.app_context():
        report_id = _submitted_part_report(world)
    login(client, "office")
    data = form_of(client, world, co=[], title="视频平台升级（二期）")
    page = client.post(url(world), data=data).get_data(as_text=True)
    assert "“甲市交通运输局”有一份待审核的汇报，请先审核（通过或退回）后再移出本里程碑" in page
    with app.app_context():
        assert co_ids(world["m_police"]) == [world["transport_dept"]]
        assert db.session.get(Milestone, world["m_police"]).title == "视频平台升级"
    # Once it is reviewed (returned here), the department may be taken off.
    with app.app_context():
        r = db.session.get(ProgressReport, report_id)
        review.return_(r, db.session.get(User, world["office"]), "请补充材料")
        db.session.commit()
    data = form_of(client, world, co=[])
    assert client.post(url(world), data=data).status_code == 302
    with app.app_context():
        assert co_ids(world["m_police"]) == []


def test_stale_form_gives_409_and_changes_nothing(client, app, world):
    login(client, "office")
    data = form_of(client, world, co=[], due_date="2021-04-30", reason="延后")
    with app.app_context():  # someone else saves first
        m = db.session.get(Milestone, world["m_police"])
        m.title = "别人改过的名称"
        db.session.commit()
    response = client.post(url(world), data=data)
    assert response.status_code == 409
    assert review_routes.STALE_MILESTONE in response.get_data(as_text=True)
    with app.app_context():
        m = db.session.get(Milestone, world["m_police"])
        assert m.due_date == date(2021, 3, 25) and co_ids(m.id) == [world["transport_dept"]]
        assert db.session.scalar(select(Extension)) is None


def test_unchanged_form_writes_nothing(client, app, world, recomputes):
    login(client, "office")
    assert client.post(url(world), data=form_of(client, world)).status_code == 302
    with app.app_context():
        assert db.session.get(Milestone, world["m_police"]).version == 1
        assert not milestone_events()
    assert recomputes == []


def test_title_only_edit_is_audited_without_recompute(client, app, world, recomputes):
    login(client, "office")
    assert client.post(url(world), data=form_of(client, world, title="视频平台升级改造")).status_code == 302
    with app.app_context():
        (event,) = milestone_events()
        assert (event.before["title"], event.after["title"]) == ("视频平台升级", "视频平台升级改造")
    assert recomputes == []
