"""Indicator pages: entering, reviewing and approving values, and direct standard values."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.forecasting.known import standard_values
from app.models import AuditEvent, Department, Indicator, IndicatorValue, Notification, Plan
from tests.conftest import csrf_from, hidden, login
from tests.factories import build_world
from workflows.forecast_recompute import job_id
from workflows.queue import get_queue


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        plan.standard_code = "sd-city-2019"
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        ind.standard_indicator = "5"
        ind.four_star_due = date(2021, 10, 31)
        ind.departments = [db.session.get(Department, w["police_dept"])]
        db.session.commit()
        w.ids.update(plan=plan.id, ind=ind.id)
        return w


def _values(app, **where):
    with app.app_context():
        stmt = select(IndicatorValue)
        for key, val in where.items():
            stmt = stmt.where(getattr(IndicatorValue, key) == val)
        rows = db.session.scalars(stmt.order_by(IndicatorValue.id)).all()
        db.session.expunge_all()
        return rows


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, val in where.items():
            stmt = stmt.where(getattr(model, key) == val)
        return db.session.scalar(stmt)


def _queued(app, plan_id) -> bool:
    with app.app_context():
        return job_id(plan_id) in get_queue("default").job_ids


def _submit(client, ind_id, **fields):
    url = f"/indicators/{ind_id}"
    data = {"csrf_token": csrf_from(client, url), "as_of": "2021-03-10", "source": "", "note": ""}
    data.update(fields)
    return client.post(f"{url}/values", data=data)


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_department_submits_and_office_approves(app, client, world):
    ind, plan = world["ind"], world["plan"]
    login(client, "police")
    listing = _text(client.get("/plans/plan-a/indicators"))
    assert "视频监控联网率" in listing and "2021年10月31日" in listing and "暂无数值" in listing
    response = _submit(client, ind, value="85", source="市公安局统计报表", note="3 月数据")
    assert response.status_code == 302
    [row] = _values(app)
    assert (row.state, row.value_number, row.as_of) == ("submitted", 85.0, date(2021, 3, 10))
    assert row.entered_by_id == world["police"] and row.source == "市公安局统计报表"
    assert _count(app, AuditEvent, action="indicator_value.submit", object_id=row.id) == 1
    assert not _queued(app, plan)  # nothing counts until the plan office approves
    listing = _text(client.get("/plans/plan-a/indicators"))
    assert "st-submitted" in listing and "85%" in listing
    with app.app_context():
        assert standard_values(db.session.get(Plan, plan), date(2021, 3, 15))[0] == {}

    login(client, "office")
    queue = _text(client.get("/review"))
    assert "待审核指标值（1）" in queue and "视频监控联网率" in queue and "甲市公安局" in queue
    page = f"/indicators/{ind}"
    response = client.post(
        f"/indicator-values/{row.id}/approve",
        data={"csrf_token": csrf_from(client, page), "version": hidden(client, page, "version")},
    )
    assert response.status_code == 302
    [row] = _values(app)
    assert row.state == "approved" and row.reviewed_by_id == world["office"] and row.reviewed_at
    assert _count(app, AuditEvent, action="indicator_value.approve", object_id=row.id) == 1
    assert _queued(app, plan)
    with app.app_context():
        assert standard_values(db.session.get(Plan, plan), date(2021, 3, 15))[0] == {"5": 85.0}
        texts = db.session.scalars(select(Notification.text).where(Notification.user_id == world["police"]))
        assert any("视频监控联网率" in t and "已确认" in t for t in texts)
    assert "待审核指标值（0）" in _text(client.get("/review"))
    shown = _text(client.get(page))
    assert "已确认" in shown and "85%" in shown and "按标准得 6 分" in shown  # 80% column of city 5


def test_office_entry_is_approved_at_once(app, client, world):
    login(client, "office")
    assert _submit(client, world["ind"], value="92.5").status_code == 302
    [row] = _values(app)
    assert row.state == "approved" and row.value_number == 92.5 and row.reviewed_by_id == world["office"]
    actions = set(_actions(app, row.id))
    assert {"indicator_value.submit", "indicator_value.approve"} <= actions
    assert _queued(app, world["plan"])


def _actions(app, object_id):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "IndicatorValue", AuditEvent.object_id == object_id
            )
        ).all()


def test_return_with_a_reason_shows_in_my_work(app, client, world):
    login(client, "police")
    _submit(client, world["ind"], value="70")
    [row] = _values(app)
    login(client, "office")
    page = f"/indicators/{world['ind']}"
    token = csrf_from(client, page)
    # Without a reason nothing changes.
    response = client.post(
        f"/indicator-values/{row.id}/return", data={"csrf_token": token, "version": "1", "reason": " "}
    )
    assert response.status_code == 302
    assert "退回时必须填写退回原因" in _text(client.get(page))
    assert _values(app)[0].state == "submitted"
    response = client.post(
        f"/indicator-values/{row.id}/return",
        data={"csrf_token": token, "version": "1", "reason": "口径不符，请按季度报表填报"},
    )
    assert response.status_code == 302
    [row] = _values(app)
    assert row.state == "returned" and row.review_note == "口径不符，请按季度报表填报"
    assert _count(app, AuditEvent, action="indicator_value.return", object_id=row.id) == 1
    assert not _queued(app, world["plan"])

    login(client, "police")
    mine = _text(client.get("/my"))
    assert "被退回的指标数值（1）" in mine and "口径不符，请按季度报表填报" in mine
    assert "退回原因：口径不符" in _text(client.get(page))  # the history keeps the reason
    assert _count(app, Notification, user_id=world["police"]) == 1
    # A new value replaces the returned one in 我的工作.
    _submit(client, world["ind"], value="72")
    assert "被退回的指标数值" not in _text(client.get("/my"))


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"value": "-5"}, "数值不能为负数"),
        ({"value": "abc"}, "数值（%）必须是数字"),
        ({"value": ""}, "请填写数值（%）"),
        ({"value": "nan"}, "必须是有限的数字"),
        ({"value": "80", "level": "4"}, "二者只选其一"),
        ({"level": "9"}, "档次应为 0 到 5 的整数"),
        ({"value": "80", "as_of": "2021-03-16"}, "数据截至日期不能晚于今天（2021年3月15日）"),
        ({"value": "80", "as_of": "not-a-date"}, "请填写数据截至日期"),
    ],
)
def test_invalid_values_are_refused_naming_the_problem(app, client, world, fields, message):
    login(client, "police")
    response = _submit(client, world["ind"], **fields)
    page = _text(response)
    assert response.status_code == 200 and message in page
    if "as_of" not in fields:
        assert "指标“视频监控联网率”（标准第 5 项）" in page  # the message names the indicator
    assert _count(app, IndicatorValue) == 0
    assert _count(app, AuditEvent, action="indicator_value.submit") == 0


def _map_to(app, world, number):
    with app.app_context():
        db.session.get(Indicator, world["ind"]).standard_indicator = number
        db.session.commit()


def test_form_follows_the_input_kind(app, client, world):
    login(client, "police")
    _map_to(app, world, "4")  # coverage_intact: two rates
    page = _text(client.get(f"/indicators/{world['ind']}"))
    assert 'name="coverage"' in page and 'name="intact"' in page and 'name="value"' not in page
    response = _submit(client, world["ind"], coverage="95")
    assert "请填写视频监控摄像机完好率" in _text(response) and _count(app, IndicatorValue) == 0
    assert _submit(client, world["ind"], coverage="95", intact="90.5").status_code == 302
    assert _values(app)[-1].value_json == {"coverage": 95, "intact": 90.5}

    _map_to(app, world, "29")  # descriptive: a level with each column's text
    page = _text(client.get(f"/indicators/{world['ind']}"))
    assert "政务版本和公众版本时空信息平台运行良好" in page and 'name="level"' in page
    assert "请选择达到的档次" in _text(_submit(client, world["ind"]))
    assert _submit(client, world["ind"], level="5").status_code == 302
    assert _values(app)[-1].value_json == {"level": 5}

    _map_to(app, world, "45")  # deduction: whole incidents, checked by the engine
    response = _submit(client, world["ind"], value="1.5")
    assert "失泄密事件起数必须是整数" in _text(response) and len(_values(app)) == 2


def test_stale_approve_is_409_and_writes_nothing(app, client, world):
    login(client, "police")
    _submit(client, world["ind"], value="85")
    [row] = _values(app)
    login(client, "office")
    page = f"/indicators/{world['ind']}"
    token, version = csrf_from(client, page), hidden(client, page, "version")
    with app.app_context():  # someone else changes the value meanwhile
        db.session.get(IndicatorValue, row.id).note = "补充说明"
        db.session.commit()
    response = client.post(
        f"/indicator-values/{row.id}/approve", data={"csrf_token": token, "version": version}
    )
    assert response.status_code == 409 and "已被他人处理或修改" in _text(response)
    assert _values(app)[0].state == "submitted"
    assert _count(app, AuditEvent, action="indicator_value.approve") == 0
    assert not _queued(app, world["plan"])
    # A second approval with the version the first one used is stale as well.
    version = hidden(client, page, "version")
    ok = client.post(f"/indicator-values/{row.id}/approve", data={"csrf_token": token, "version": version})
    assert ok.status_code == 302
    again = client.post(f"/indicator-values/{row.id}/approve", data={"csrf_token": token, "version": version})
    assert again.status_code == 409
    assert _count(app, AuditEvent, action="indicator_value.approve") == 1


def test_outside_scope_and_roles(app, client, world):
    login(client, "police")
    _submit(client, world["ind"], value="85")
    [row] = _values(app)
    for username in ("other_office", "transport"):  # another region; a department not responsible
        login(client, username)
        token = csrf_from(client, "/notifications")
        assert client.get(f"/indicators/{world['ind']}").status_code == 404
        data = {"csrf_token": token, "version": "1", "reason": "x"}
        assert client.post(f"/indicator-values/{row.id}/approve", data=data).status_code == 404
        assert client.post(f"/indicator-values/{row.id}/return", data=data).status_code == 404
    assert "视频监控联网率" not in _text(client.get("/plans/plan-a/indicators"))  # transport: not its own
    login(client, "police")  # responsible, but a department does not review
    token = csrf_from(client, "/notifications")
    response = client.post(f"/indicator-values/{row.id}/approve", data={"csrf_token": token, "version": "1"})
    assert response.status_code == 403
    login(client, "leader")  # reads everything, enters nothing
    assert client.get(f"/indicators/{world['ind']}").status_code == 200
    assert _submit(client, world["ind"], value="90").status_code == 403
    assert _values(app)[0].state == "submitted" and len(_values(app)) == 1


def test_missing_csrf_is_refused(app, client, world):
    login(client, "police")
    response = client.post(f"/indicators/{world['ind']}/values", data={"as_of": "2021-03-10", "value": "85"})
    assert response.status_code == 400 and _count(app, IndicatorValue) == 0


def _direct(client, number, **fields):
    url = "/plans/plan-a/standard-values"
    data = {"csrf_token": csrf_from(client, url), "as_of": "2021-03-01", "note": ""}
    data.update(fields)
    return client.post(f"{url}/{number}", data=data)


def test_direct_standard_values(app, client, world):
    login(client, "office")
    page = _text(client.get("/plans/plan-a/standard-values"))
    assert "第 1 项 家庭光纤入户率" in page
    assert re.search(r"由计划指标跟踪：<a href=\"/indicators/\d+\">视频监控联网率</a>", page)
    assert "/plans/plan-a/standard-values/5" not in page  # no form for a tracked number

    response = _direct(client, "1", value="92", note="工信部门通报")
    assert response.status_code == 302
    with app.app_context():
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "std-1"))
        [row] = db.session.scalars(select(IndicatorValue).where(IndicatorValue.indicator_id == ind.id)).all()
        assert (row.state, row.value_number, row.note) == ("approved", 92.0, "工信部门通报")
        assert standard_values(db.session.get(Plan, world["plan"]), date(2021, 3, 15))[0] == {"1": 92.0}
    assert _count(app, AuditEvent, action="indicator.direct_value") == 1
    assert _queued(app, world["plan"])
    page = _text(client.get("/plans/plan-a/standard-values"))
    assert re.search(r'data-testid="direct-1">当前直填值：<b>92%</b>', page)

    # The plan tracks number 5: refused, naming the indicator; nothing written.
    response = _direct(client, "5", value="90")
    assert response.status_code == 200
    assert "标准第 5 项（城市重点公共区域视频监控联网率）已由计划指标“视频监控联网率”跟踪" in _text(response)
    # Bad values are refused with the engine's reason, in Chinese.
    assert "标准第 45 项（信息安全）：失泄密事件起数必须是整数" in _text(_direct(client, "45", value="0.5"))
    assert "标准第 46 项（工作试点）：请填写省级智慧城市试点" in _text(_direct(client, "46", national="1"))
    assert "不能晚于今天" in _text(_direct(client, "3", value="90", as_of="2021-04-01"))
    assert _count(app, IndicatorValue) == 1 and _count(app, AuditEvent, action="indicator.direct_value") == 1
    assert (
        client.post(
            "/plans/plan-a/standard-values/99", data={"csrf_token": csrf_from(client, "/my")}
        ).status_code
        == 404
    )

    # Structured inputs go through too.
    assert _direct(client, "46", national="1", provincial="2").status_code == 302
    assert _direct(client, "29", level="4").status_code == 302
    with app.app_context():
        values, _ = standard_values(db.session.get(Plan, world["plan"]), date(2021, 3, 15))
    assert values == {"1": 92.0, "46": {"national": 1, "provincial": 2}, "29": {"level": 4}}


def test_department_sees_only_its_indicators(app, client, world):
    with app.app_context():
        other = Indicator(plan_id=world["plan"], key="i9", name="公交电子站牌覆盖率", unit="%")
        other.departments = [db.session.get(Department, world["transport_dept"])]
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login(client, "police")
    listing = _text(client.get("/plans/plan-a/indicators"))
    assert "视频监控联网率" in listing and "公交电子站牌覆盖率" not in listing
    assert client.get(f"/indicators/{other_id}").status_code == 404
    assert "plan-a/indicators" in _text(client.get("/my"))  # 我的工作 links to the indicators
    login(client, "office")
    listing = _text(client.get("/plans/plan-a/indicators"))
    assert "视频监控联网率" in listing and "公交电子站牌覆盖率" in listing


def test_a_decided_value_cannot_be_decided_again(app, client, world):
    login(client, "police")
    _submit(client, world["ind"], value="85")
    [row] = _values(app)
    login(client, "office")
    page = f"/indicators/{world['ind']}"
    token = csrf_from(client, page)
    client.post(
        f"/indicator-values/{row.id}/approve", data={"csrf_token": token, "version": str(row.version)}
    )
    [row] = _values(app)
    response = client.post(
        f"/indicator-values/{row.id}/return",
        data={"csrf_token": token, "version": str(row.version), "reason": "再看看"},
    )
    assert response.status_code == 302
    assert "该数值当前状态为“已确认”，不能退回" in _text(client.get(page))
    assert (
        _values(app)[0].state == "approved" and _count(app, AuditEvent, action="indicator_value.return") == 0
    )
