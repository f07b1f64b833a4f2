"""A compound indicator is entered part by part; only the linked part is scored by the
standard, and its targets are met only when every part is."""

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.forecasting.known import standard_values
from app.models import Department, Indicator, IndicatorValue, Plan
from tests.conftest import csrf_from, login
from tests.factories import build_world

PARTS = [
    {"key": "realtime", "name": "公共汽电车来车实时预报率", "unit": "%"},
    {"key": "stops", "name": "公交电子站牌覆盖率", "unit": "%"},
]


@pytest.fixture
def world(app):
    with app.app_context():
        w = build_world()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        plan.standard_code = "sd-city-2019"
        ind = Indicator(
            plan_id=plan.id,
            key="bus",
            name="公共交通来车实时预报率",
            unit="%",
            parts=PARTS,
            four_star_target="公共汽电车来车实时预报率达到 90%，且公交电子站牌覆盖率达到 10%",
            four_star_op=">=",
            four_star_value=90,
            four_star_part="realtime",
            four_star_and=[{"part": "stops", "op": ">=", "value": 10}],
            four_star_due=date(2021, 10, 31),
            standard_indicator="14",
            standard_quantity="公交电子站牌覆盖率",
            standard_unit="%",
            standard_part="stops",
        )
        ind.departments = [db.session.get(Department, w["transport_dept"])]
        db.session.add(ind)
        db.session.commit()
        w.ids.update(plan=plan.id, ind=ind.id)
        return w


def _submit(client, ind_id, **fields):
    url = f"/indicators/{ind_id}"
    data = {"csrf_token": csrf_from(client, url), "as_of": "2021-03-10", "source": "", "note": ""}
    return client.post(f"{url}/values", data={**data, **fields})


def _rows(app):
    with app.app_context():
        rows = db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.id)).all()
        db.session.expunge_all()
        return rows


def test_one_field_per_part(app, client, world):
    login(client, "transport")
    page = client.get(f"/indicators/{world['ind']}").get_data(as_text=True)
    assert 'name="realtime"' in page and 'name="stops"' in page and 'name="value"' not in page
    assert "公共汽电车来车实时预报率（%）" in page and "公交电子站牌覆盖率（%）" in page
    assert "计入标准第 14 项（公交电子站牌覆盖率）" in page
    assert 'data-testid="feed-part"' in page and 'name="level"' not in page
    assert "公交电子站牌覆盖率达到10%，2分" in page  # the standard's columns, shown, not enterable


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"realtime": "61.5"}, "各分项须全部填写，缺少：公交电子站牌覆盖率（%）"),
        ({"realtime": "61.5", "stops": "-2"}, "公交电子站牌覆盖率不能为负数"),
        ({"realtime": "abc", "stops": "12"}, "公共汽电车来车实时预报率（%）必须是数字"),
    ],
)
def test_parts_are_checked(app, client, world, fields, message):
    login(client, "transport")
    response = _submit(client, world["ind"], **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert "指标“公共交通来车实时预报率”（标准第 14 项）" in page
    assert _rows(app) == []


def test_parts_are_stored_scored_and_judged_each(app, client, world):
    login(client, "office")  # the plan office's entry is approved at once
    assert _submit(client, world["ind"], realtime="61.5", stops="12").status_code == 302
    [row] = _rows(app)
    assert row.value_json == {"realtime": 61.5, "stops": 12} and row.value_number is None
    with app.app_context():
        values, _ = standard_values(db.session.get(Plan, world["plan"]), date(2021, 3, 15))
    assert values == {"14": 12}  # the 电子站牌覆盖率, never the 61.5% 来车实时预报率
    page = client.get(f"/indicators/{world['ind']}").get_data(as_text=True)
    assert "公共汽电车来车实时预报率 61.5%，公交电子站牌覆盖率 12%" in page
    assert "按标准得 2 分" in page  # 电子站牌覆盖率 12% → column 1 of city 14
    conditions = page.split('data-testid="conditions-4"')[1].split("</ul>")[0]
    assert "公共汽电车来车实时预报率 ≥ 90%：61.5% · " in conditions and "未达到" in conditions
    assert "公交电子站牌覆盖率 ≥ 10%：12% · " in conditions and "已达到" in conditions
    listing = client.get("/plans/plan-a/indicators").get_data(as_text=True)
    row_html = listing.split("公共交通来车实时预报率")[1].split("</tr>")[0]
    assert "未达标" in row_html and "已达标" not in row_html  # 90% 来车实时预报率 is not reached
    assert "计入分项：公交电子站牌覆盖率" in row_html

    assert _submit(client, world["ind"], realtime="92", stops="12").status_code == 302
    listing = client.get("/plans/plan-a/indicators").get_data(as_text=True)
    row_html = listing.split("公共交通来车实时预报率")[1].split("</tr>")[0]
    assert "已达标" in row_html
