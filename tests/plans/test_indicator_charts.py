"""指标走势图: approved values known today only, per part where the indicator is measured in
parts, target lines with their units, and no line where a target is in another unit."""

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Indicator, IndicatorValue, Plan
from tests.conftest import login
from tests.factories import build_world

REVIEWED = datetime(2021, 3, 1, 2, 0)  # UTC, known on the test's today (2021-03-15)


def _value(ind, as_of, number=None, data=None, state="approved"):
    db.session.add(
        IndicatorValue(
            indicator_id=ind.id,
            as_of=as_of,
            value_number=number,
            value_json=data,
            state=state,
            reviewed_at=REVIEWED if state != "submitted" else None,
        )
    )


@pytest.fixture
def world(app):
    with app.app_context():
        world = build_world()
        plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
        plan.standard_code = "sd-city-2019"
        i1 = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
        i1.four_star_due = date(2021, 10, 31)
        i1.five_star_op, i1.five_star_value, i1.five_star_due = ">=", 95, date(2022, 12, 31)
        i1.five_star_target = "联网率达到95%"
        parts = Indicator(
            plan_id=plan.id,
            key="i2",
            name="公共交通来车实时预报率",
            unit="%",
            parts=[
                {"key": "realtime", "name": "公共汽电车来车实时预报率", "unit": "%"},
                {"key": "stops", "name": "公交电子站牌数", "unit": "个"},
            ],
            four_star_op=">=",
            four_star_value=90,
            four_star_part="realtime",
            four_star_and=[{"part": "stops", "op": ">=", "value": 10}],
            four_star_due=date(2021, 10, 31),
            position=1,
        )
        # Linked to standard 5 (measured in %) but printed in 个 by the plan: its target is
        # in 个, its values (entered in the standard's unit) in %.
        mismatch = Indicator(
            plan_id=plan.id,
            key="i3",
            name="联网点位数",
            unit="个",
            standard_indicator="5",
            standard_quantity="城市重点公共区域视频监控联网率",
            standard_unit="%",
            four_star_op=">=",
            four_star_value=100,
            position=2,
        )
        descriptive = Indicator(
            plan_id=plan.id, key="i4", name="制度机制", four_star_target="建立推进机制", position=3
        )
        db.session.add_all([parts, mismatch, descriptive])
        db.session.flush()
        _value(i1, date(2021, 1, 31), 80)
        _value(i1, date(2021, 2, 28), 85)
        _value(i1, date(2021, 3, 5), 70, state="returned")
        _value(i1, date(2021, 3, 10), 88, state="submitted")
        _value(i1, date(2021, 4, 30), 99)  # measured after today: not known yet
        _value(parts, date(2021, 1, 31), data={"realtime": 61.5, "stops": 12.0})
        _value(parts, date(2021, 2, 28), data={"realtime": 70.0})
        _value(parts, date(2021, 3, 1), data={"level": 3})
        _value(mismatch, date(2021, 2, 28), 50)
        _value(descriptive, date(2021, 2, 28), data={"level": 3})
        db.session.commit()
        ids = {k: i.id for k, i in (("i1", i1), ("i2", parts), ("i3", mismatch), ("i4", descriptive))}
        world.ids.update(ids)
    return world


def _charts(client):
    login(client, "leader")
    response = client.get("/plans/plan-a/indicator-charts.json")
    assert response.status_code == 200
    data = response.get_json()
    assert data["today"] == "2021-03-15"
    return {i["id"]: i for i in data["indicators"]}


def test_only_approved_values_known_today_are_plotted_against_targets_with_units(client, world):
    i1 = _charts(client)[world["i1"]]
    assert i1["value_count"] == 2 and i1["note"] is None
    [chart] = i1["charts"]
    assert chart["unit"] == "%"
    [series] = chart["series"]
    assert series["unit"] == "%" and series["key"] is None
    assert series["points"] == [["2021-01-31", 80], ["2021-02-28", 85]]
    targets = [(t["stars"], t["op"], t["value"], t["unit"], t["due"]) for t in chart["targets"]]
    assert targets == [(4, ">=", 90, "%", "2021-10-31"), (5, ">=", 95, "%", "2022-12-31")]
    assert chart["targets"][0]["text"] == "四星 ≥ 90%"
    assert i1["unplotted_targets"] == []


def test_a_compound_indicator_is_plotted_per_part_one_chart_per_unit(client, world):
    i2 = _charts(client)[world["i2"]]
    rates, counts = i2["charts"]  # a part in % and a part in 个: never on one scale
    assert (rates["unit"], counts["unit"]) == ("%", "个")
    [realtime] = rates["series"]
    [stops] = counts["series"]
    assert realtime["key"] == "realtime" and realtime["unit"] == "%"
    assert realtime["points"] == [["2021-01-31", 61.5], ["2021-02-28", 70.0]]
    assert stops["name"] == "公交电子站牌数" and stops["unit"] == "个"
    assert stops["points"] == [["2021-01-31", 12.0]]
    # each condition of the four-star cell on its own part, in that part's unit
    assert [(t["series"], t["op"], t["value"], t["unit"]) for t in rates["targets"]] == [
        ("realtime", ">=", 90, "%")
    ]
    assert [(t["series"], t["op"], t["value"], t["unit"]) for t in counts["targets"]] == [
        ("stops", ">=", 10, "个")
    ]
    assert counts["targets"][0]["text"] == "四星 ≥ 10 个"
    assert i2["unplotted_targets"] == []
    assert i2["level_values"] == 1  # counted, not plotted


def test_a_target_in_another_unit_is_not_drawn(client, world):
    i3 = _charts(client)[world["i3"]]
    [chart] = i3["charts"]
    assert chart["unit"] == "%" and chart["series"][0]["points"] == [["2021-02-28", 50]]
    assert chart["targets"] == []
    [t] = i3["unplotted_targets"]
    assert t["unit"] == "个" and t["value"] == 100
    assert "单位" in t["reason"] and "个" in t["reason"] and "%" in t["reason"]


def test_a_descriptive_indicator_says_why_there_is_no_chart(client, world):
    i4 = _charts(client)[world["i4"]]
    assert i4["charts"] == [] and "按档次评定" in i4["note"]
    assert i4["unplotted_targets"][0]["reason"] == "描述性目标，没有可比较的数值"


def test_charts_page(client, world):
    login(client, "leader")
    html = client.get("/plans/plan-a/indicator-charts").get_data(as_text=True)
    assert 'id="charts-data"' in html and "vendor/echarts/echarts.min.js" in html and "charts.js" in html
    assert html.count('class="ind-chart"') == 4  # i1, i2 (% and 个), i3
    assert "目标单位（个）与数值单位（%）不同" in html and "按档次评定" in html
    assert "四星 ≥ 90%" in html and "2021年10月31日" in html
    # The only inline <script> is data (type application/json); no inline styles.
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert scripts == ['<script type="application/json" id="charts-data">']
    assert ' style="' not in html
    # Linked from the indicator pages.
    listing = client.get("/plans/plan-a/indicators").get_data(as_text=True)
    assert 'href="/plans/plan-a/indicator-charts"' in listing
    one = client.get(f"/indicators/{world['i1']}").get_data(as_text=True)
    assert f'href="/plans/plan-a/indicator-charts#ind-{world["i1"]}"' in one


@pytest.mark.parametrize("path", ["/plans/plan-b/indicator-charts", "/plans/plan-b/indicator-charts.json"])
def test_charts_of_another_region_are_404(client, world, path):
    login(client, "leader")
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/plans/plan-a/indicator-charts", "/plans/plan-a/indicator-charts.json"])
def test_charts_are_403_for_a_department_user(client, world, path):
    login(client, "police")
    assert client.get(path).status_code == 403
