"""The forms obey the shared bounds: an extension, a milestone's due date, an indicator
value and its date, a 督办 reply date, a dependency's lag. Each refusal names the field
and the allowed range, and writes nothing (no row, no audit)."""

from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    Department,
    Dependency,
    Extension,
    Indicator,
    IndicatorValue,
    Milestone,
    Notice,
    Plan,
)
from tests.conftest import csrf_from, login
from tests.factories import build_world


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        plan.standard_code = "sd-city-2019"
        ind = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        ind.standard_indicator = "5"  # 视频监控联网率, %
        ind.departments = [db.session.get(Department, w["police_dept"])]
        plain = Indicator(plan_id=plan.id, key="i2", name="宽带接入能力", unit="Mbps")
        plain.departments = [db.session.get(Department, w["police_dept"])]
        db.session.add(plain)
        db.session.commit()
        w.ids.update(ind=ind.id, plain=plain.id)
        return w


def _count(app, model, **where):
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, val in where.items():
            stmt = stmt.where(getattr(model, key) == val)
        return db.session.scalar(stmt)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _post(client, url, page=None, **data):
    return client.post(url, data={"csrf_token": csrf_from(client, page or url), **data})


@pytest.mark.parametrize(
    "new_due,message",
    [
        ("9999-12-31", "新的完成期限9999年12月31日超出允许范围"),
        ("2024-01-01", "（2020年1月1日至2023年12月31日）"),
    ],
)
def test_extension_beyond_the_plan_and_a_year_is_refused(app, client, world, new_due, message):
    login(client, "office")
    url = f"/milestones/{world['m_late']}/extend"
    response = _post(client, url, version=1, new_due=new_due, reason="设备到货延迟")
    assert response.status_code == 200 and message in _text(response)
    assert _count(app, Extension) == 0 and _count(app, AuditEvent, action="milestone.extend") == 0
    with app.app_context():
        assert db.session.get(Milestone, world["m_late"]).due_date == date(2021, 2, 28)


def test_extension_to_the_last_allowed_day_is_granted(app, client, world):
    login(client, "office")
    url = f"/milestones/{world['m_late']}/extend"
    response = _post(client, url, version=1, new_due="2023-12-31", reason="并入下一期")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Milestone, world["m_late"]).due_date == date(2023, 12, 31)


@pytest.mark.parametrize(
    "ind,value,message",
    [
        ("ind", "101", "是百分数，应在 0 到 100 之间，收到 101"),
        ("ind", "1e20", "是百分数，应在 0 到 100 之间"),
        ("ind", "-1", "0 到 100"),
        ("ind", "inf", "必须是有限的数字"),
        ("plain", "1e20", "超出允许范围"),
    ],
)
def test_indicator_value_out_of_bounds_is_refused(app, client, world, ind, value, message):
    login(client, "police")
    url = f"/indicators/{world[ind]}"
    response = _post(client, f"{url}/values", url, value=value, as_of="2021-03-10", source="", note="")
    assert response.status_code == 200 and message in _text(response), _text(response)[-3000:]
    assert _count(app, IndicatorValue) == 0
    assert _count(app, AuditEvent, action="indicator_value.submit") == 0


def test_indicator_value_at_100_percent_is_accepted(app, client, world):
    login(client, "police")
    url = f"/indicators/{world['ind']}"
    response = _post(client, f"{url}/values", url, value="100", as_of="2021-03-10", source="", note="")
    assert response.status_code == 302
    assert _count(app, IndicatorValue) == 1


def test_indicator_value_date_absurdly_early_is_refused(app, client, world):
    login(client, "police")
    url = f"/indicators/{world['ind']}"
    response = _post(client, f"{url}/values", url, value="80", as_of="1900-01-01", source="", note="")
    assert response.status_code == 200 and "数据截至日期不能早于2000年1月1日" in _text(response)
    assert _count(app, IndicatorValue) == 0


@pytest.mark.parametrize(
    "reply_due,message",
    [
        ("9999-12-31", "答复期限超出允许范围：应在今天至计划结束后一年内（2021年3月15日至2023年12月31日）"),
        ("2021-03-14", "答复期限不能早于今天"),
    ],
)
def test_notice_reply_date_bounds(app, client, world, reply_due, message):
    login(client, "leader")
    url = f"/milestones/{world['m_police']}/notices"
    data = {"department_id": world["transport_dept"], "text": "请说明配合进度", "reply_due": reply_due}
    response = _post(client, url, f"/milestones/{world['m_police']}", **data)
    assert response.status_code == 302
    page = _text(client.get(f"/milestones/{world['m_police']}"))
    assert message in page
    assert _count(app, Notice) == 0 and _count(app, AuditEvent, action="notice.issue") == 0


@pytest.mark.parametrize("lag", ["-1", "366", "99999999999999999999"])
def test_dependency_lag_bounds(app, client, world, lag):
    login(client, "office")
    url = f"/milestones/{world['m_transport']}/dependencies"
    response = _post(
        client, url, f"/milestones/{world['m_transport']}", predecessor_id=world["m_police"], lag_days=lag
    )
    assert response.status_code == 302
    assert "间隔天数应在 0 到 365 之间" in _text(client.get(f"/milestones/{world['m_transport']}"))
    assert _count(app, Dependency) == 2  # the world's two, no more
