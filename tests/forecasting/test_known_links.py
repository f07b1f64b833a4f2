"""What a plan value feeds to the standard (standard_input) and what a milestone
delivers (declared_deliveries): only the linked part, only declared values."""

from datetime import date, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.forecasting.known import declared_deliveries, declared_values, standard_input, standard_values
from app.models import Indicator, IndicatorValue, Milestone, Plan
from tests.factories import build_world

AS_OF = date(2021, 3, 15)
BUS_PARTS = [
    {"key": "realtime", "name": "公共汽电车来车实时预报率", "unit": "%"},
    {"key": "stops", "name": "公交电子站牌覆盖率", "unit": "%"},
]
SOCIAL_PARTS = [
    {"key": "contribution", "name": "公共安全视频图像支撑打击犯罪的贡献率", "unit": "%"},
    {"key": "departments", "name": "服务政府其他职能部门的个数", "unit": "个"},
]


def _value(ind, as_of, value):
    db.session.add(
        IndicatorValue(
            indicator_id=ind.id,
            as_of=as_of,
            value_number=None if isinstance(value, dict) else value,
            value_json=value if isinstance(value, dict) else None,
            state="approved",
            reviewed_at=datetime(as_of.year, as_of.month, as_of.day, 9),
        )
    )


@pytest.fixture
def w(ctx):
    build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    common = dict(plan_id=plan.id, unit="%", four_star_op=">=", four_star_target="目标")
    bus = Indicator(
        key="bus",
        name="公共交通来车实时预报率",
        parts=BUS_PARTS,
        four_star_value=90,
        four_star_part="realtime",
        four_star_and=[{"part": "stops", "op": ">=", "value": 10}],
        standard_indicator="14",
        standard_quantity="公交电子站牌覆盖率",
        standard_unit="%",
        standard_part="stops",
        **common,
    )
    social = Indicator(
        key="social",
        name="公共安全视频图像应用",
        parts=SOCIAL_PARTS,
        four_star_value=60,
        four_star_part="contribution",
        four_star_and=[{"part": "departments", "op": ">=", "value": 7}],
        standard_indicator="6",
        standard_quantity="公共安全视频图像支撑服务社会管理情况",
        standard_unit="%",
        **common,
    )
    cloud = Indicator(key="cloud", name="企业上云规模", **{**common, "unit": "家"}, four_star_value=2000)
    db.session.add_all([bus, social, cloud])
    i1 = db.session.scalar(select(Indicator).where(Indicator.key == "i1"))
    i1.standard_indicator, i1.standard_quantity, i1.standard_unit = "5", "城市重点公共区域视频监控联网率", "%"
    db.session.flush()
    ms = {m.key: m for m in db.session.scalars(select(Milestone))}
    ms["m3"].indicators = [bus, cloud]
    ms["m1"].indicators = [i1, social]
    db.session.commit()
    return {"bus": bus, "social": social, "cloud": cloud, "i1": i1, "plan": plan, **ms}


def test_standard_input_feeds_only_the_linked_part(w):
    bus, social, i1, cloud = w["bus"], w["social"], w["i1"], w["cloud"]
    assert standard_input(bus, {"realtime": 61.5, "stops": 12.0}) == 12.0
    for raw in (61.5, {"realtime": 61.5}, {"level": 3}, None, {"realtime": 61.5, "stops": -1}):
        assert standard_input(bus, raw) is None, raw
    # parts that are the fields of the standard's compound input: the structured input itself
    assert standard_input(social, {"contribution": 62, "departments": 7}) == {
        "contribution": 62,
        "departments": 7,
    }
    assert standard_input(social, {"level": 4}) == {"level": 4}
    assert standard_input(social, {"contribution": 62}) is None  # a field missing: nothing to score
    assert standard_input(i1, 85) == 85
    assert standard_input(cloud, 1923) is None  # not linked: it feeds nothing


def test_standard_values_score_the_stops_not_the_realtime_rate(w):
    _value(w["bus"], date(2021, 3, 1), {"realtime": 61.5, "stops": 12.0})
    _value(w["social"], date(2021, 3, 1), {"contribution": 62, "departments": 7})
    _value(w["cloud"], date(2021, 3, 1), 1923)
    db.session.commit()
    values, sources = standard_values(w["plan"], AS_OF)
    # 61.5 is the 来车实时预报率; standard 14 measures 电子站牌覆盖率 (12% → column 1, 2 points)
    assert values["14"] == 12.0 and sources["14"]["points"] == 2 and sources["14"]["part"] == "stops"
    assert values["6"] == {"contribution": 62, "departments": 7} and sources["6"]["points"] == 10
    assert "33" not in values  # 1,923 家 is not a 企业上云率


def _targets(m, *targets):
    m.targets = [
        {"metric": metric, "op": ">=", "value": value, "unit": unit, **extra}
        for metric, value, unit, extra in targets
    ]
    db.session.commit()


def test_declared_deliveries(w):
    bus, cloud, social, i1 = w["bus"], w["cloud"], w["social"], w["i1"]
    # a link without a declared value delivers nothing: no guess from another target
    _targets(w["m3"], ("服务本地企业", 10, "家", {}))
    assert declared_deliveries(w["m3"], bus, AS_OF) == [] and declared_values(w["m3"], bus, AS_OF) == []
    assert declared_deliveries(w["m3"], cloud, AS_OF) == []
    _targets(
        w["m3"],
        ("公交电子站牌覆盖率", 30, "%", {"indicator": "bus", "part": "stops"}),
        ("来车实时预报率", 90, "%", {"indicator": "bus", "part": "realtime"}),
        ("企业上云数量", 2000, "家", {"indicator": "cloud"}),
    )
    assert declared_deliveries(w["m3"], bus, AS_OF) == [30]
    assert declared_values(w["m3"], bus, AS_OF) == [{"stops": 30, "realtime": 90}]
    assert declared_values(w["m3"], cloud, AS_OF) == [2000]
    assert declared_deliveries(w["m3"], cloud, AS_OF) == []  # not linked to the standard
    _targets(w["m3"], ("来车实时预报率", 90, "%", {"indicator": "bus", "part": "realtime"}))
    assert declared_deliveries(w["m3"], bus, AS_OF) == []  # the realtime rate does not feed standard 14
    # one field of a compound standard input: merged into the latest known value, else skipped
    _targets(w["m1"], ("服务部门", 11, "个", {"indicator": "social", "part": "departments"}))
    assert declared_deliveries(w["m1"], social, AS_OF) == []
    _value(social, date(2021, 3, 1), {"contribution": 62, "departments": 7})
    db.session.commit()
    assert declared_deliveries(w["m1"], social, AS_OF) == [{"contribution": 62, "departments": 11}]
    assert declared_deliveries(w["m1"], social, date(2021, 2, 1)) == []  # not known yet then
    _targets(w["m1"], ("联网率", 95, "%", {"indicator": "i1"}))
    assert declared_deliveries(w["m1"], i1, AS_OF) == [95]
