"""Quantity-true links: the loader refuses a link, a part condition or a declared
delivery that does not measure what it names, naming file and path, and writes nothing."""

import copy

import pytest

from app.extensions import db
from app.planio.loader import load_files
from app.planio.schema import validate
from tests.planio.helpers import WEIHAI, ZHANGQIU, milestones_of, read, rows, write_copy

FILE = "plans/x.yaml"
E_ID = "以公民身份号码或法人和其他组织统一社会信用代码为唯一标识的电子证照使用率"
CLOUD = "家 is not the unit % of sd-city-2019 indicator 33 (企业上云率)"


@pytest.fixture(scope="module")
def wh():
    return read(WEIHAI)


def ind(data, key):
    return next(i for i in data["indicators"] if i["key"] == key)


def where(data, key) -> str:
    return f"indicators[{next(n for n, i in enumerate(data['indicators']) if i['key'] == key)}]"


def errors(data) -> list[str]:
    return [str(e) for e in validate(data, FILE)]


def test_the_real_plans_are_clean(wh):
    assert errors(wh) == []
    assert errors(read(ZHANGQIU)) == []


def test_a_count_against_a_rate_is_refused(wh):
    data = copy.deepcopy(wh)
    ind(data, "wh-i22")["standard"] = {"indicator": "33", "quantity": "企业上云率", "unit": "家"}
    assert where(data, "wh-i22") == "indicators[21]"
    assert errors(data) == [f"{FILE}: indicators[21].standard.unit: {CLOUD}"]
    ind(data, "wh-i22")["standard"]["unit"] = "%"  # the standard's unit, but the plan counts 家
    assert errors(data) == [
        f"{FILE}: indicators[21].standard.unit: % is not the unit 家 of the plan indicator (企业上云规模)"
    ]


@pytest.mark.parametrize(
    "key,link,field,problem",
    [
        (  # a quantity that is not the standard indicator's
            "wh-i22",
            {"indicator": "33", "quantity": "企业上云规模", "unit": "%"},
            "quantity",
            "企业上云规模 is not the quantity 企业上云率 of sd-city-2019 indicator 33 (企业上云率)",
        ),
        (  # an amount (万元) against a level-only indicator (unit null)
            "wh-i43",
            {"indicator": "43", "quantity": "投资强度", "unit": None},
            "unit",
            "null (descriptive) is not the unit 万元 of the plan indicator (资金投入)",
        ),
        (  # spacing in 公里 against a share of stations
            "wh-i32",
            {"indicator": "3", "quantity": "气象自动监测站覆盖率", "unit": "公里"},
            "unit",
            "公里 is not the unit % of sd-city-2019 indicator 3 (气象自动监测站覆盖率)",
        ),
        (  # a part that does not exist
            "wh-i04",
            {"indicator": "14", "quantity": "公交电子站牌覆盖率", "unit": "%", "part": "screens"},
            "part",
            "'screens' is not a part of the plan indicator (realtime, stops)",
        ),
        (  # a compound indicator must say which part feeds a scalar standard indicator
            "wh-i04",
            {"indicator": "14", "quantity": "公交电子站牌覆盖率", "unit": "%"},
            "part",
            "missing: the plan indicator has parts (realtime, stops); name the one that feeds "
            "sd-city-2019 indicator 14 (公交电子站牌覆盖率)",
        ),
        (  # a part of an indicator that has none
            "wh-i01",
            {"indicator": "13", "quantity": "电子证照使用率", "unit": "%", "part": "stops"},
            "quantity",
            f"电子证照使用率 is not the quantity {E_ID} of sd-city-2019 indicator 13 ({E_ID})",
        ),
        (
            "wh-i22",
            {"indicator": "99", "quantity": "企业上云率", "unit": "%"},
            "indicator",
            "the standard sd-city-2019 has no indicator '99'",
        ),
    ],
)
def test_link_refusals(wh, key, link, field, problem):
    data = copy.deepcopy(wh)
    ind(data, key)["standard"] = link
    assert f"{FILE}: {where(data, key)}.standard.{field}: {problem}" in errors(data)


def test_part_and_field_units(wh):
    data = copy.deepcopy(wh)
    ind(data, "wh-i04")["parts"][1]["unit"] = "个"  # the part that feeds standard 14 (%)
    ind(data, "wh-i31")["parts"][1]["unit"] = "项"  # departments are counted in 个 by standard 6
    ind(data, "wh-i01")["standard"]["part"] = "stops"
    assert errors(data) == [
        f"{FILE}: indicators[0].standard.part: 'stops': the plan indicator has no parts",
        f"{FILE}: indicators[3].standard.unit: % is not the unit 个 of part stops (公交电子站牌覆盖率)",
        f"{FILE}: indicators[30].standard.unit: part departments is in 项, field departments of "
        "sd-city-2019 indicator 6 (公共安全视频图像支撑服务社会管理情况) in 个",
    ]


def test_the_old_bare_number_is_refused(wh):
    data = copy.deepcopy(wh)
    del ind(data, "wh-i22")["standard"]
    ind(data, "wh-i22")["standard_indicator"] = "33"
    assert errors(data) == [
        f"{FILE}: indicators[21].standard_indicator: replaced by standard: "
        "{indicator, quantity, unit, part} (plans/README.md)"
    ]


def test_part_conditions_of_the_cells(wh):
    data = copy.deepcopy(wh)
    bus = ind(data, "wh-i04")
    del bus["four_star"]["part"]
    bus["five_star"]["and"] = [
        {"part": "realtime", "op": ">", "value": 20},
        {"part": "lights", "op": ">", "value": 1},
    ]
    ind(data, "wh-i01")["four_star"]["part"] = "realtime"
    ind(data, "wh-i01")["five_star"]["and"] = [{"part": "x", "op": ">", "value": 1}]
    assert errors(data) == [
        f"{FILE}: indicators[0].four_star.part: the indicator has no parts",
        f"{FILE}: indicators[0].five_star.and: only an indicator with parts has further conditions",
        f"{FILE}: indicators[3].four_star.part: missing: the indicator has parts (realtime, stops); "
        "name the one op/value is on",
        f"{FILE}: indicators[3].five_star.and[0].part: part 'realtime' already has a condition in this cell",
        f"{FILE}: indicators[3].five_star.and[1].part: "
        "'lights' is not a part of the indicator (realtime, stops)",
    ]
    data = copy.deepcopy(wh)
    ind(data, "wh-i04")["parts"] = [{"key": "Real-time", "name": "来车", "unit": "%"}]
    got = errors(data)
    assert f"{FILE}: indicators[3].parts: a compound indicator has at least two parts" in got
    assert any("indicators[3].parts[0].key: 'Real-time' is not a part key" in e for e in got)


def _target(data, ms, metric):
    return next(t for t in milestones_of(data)[ms]["targets"] if t["metric"] == metric)


def test_declared_deliveries(wh):
    data = copy.deepcopy(wh)
    node = "nodes[1].children[2].milestones[0]"  # wh-p05-2021, 工业互联网建设
    _target(data, "wh-p05-2021", "工业互联网标识解析二级节点数量")["indicator"] = (
        "wh-i27"  # 个, the indicator 家
    )
    _target(data, "wh-p05-2021", "二级节点服务本地企业")["indicator"] = (
        "wh-i22"  # not in the milestone's list
    )
    assert errors(data) == [
        f"{FILE}: {node}.targets[1].indicator: 'wh-i22' is not in the milestone's indicators",
        f"{FILE}: {node}.targets[0].unit: 个 is not the unit 家 of indicator wh-i27 "
        "(工业互联网标识解析二级节点)",
    ]


def test_declared_deliveries_to_parts(wh):
    data = copy.deepcopy(wh)
    ms = milestones_of(data)["wh-p35-2020"]  # 完善智慧公交框架体系 → 公共交通来车实时预报率
    ms["targets"] = [
        {"metric": "公交电子站牌覆盖率", "op": ">=", "value": 10, "unit": "%", "indicator": "wh-i04"},
        {
            "metric": "来车实时预报率",
            "op": ">=",
            "value": 90,
            "unit": "%",
            "indicator": "wh-i04",
            "part": "eta",
        },
        {"metric": "站牌", "op": ">=", "value": 10, "unit": "%", "indicator": "wh-i04", "part": "stops"},
        {"metric": "站牌", "op": ">=", "value": 12, "unit": "%", "indicator": "wh-i04", "part": "stops"},
    ]
    milestones_of(data)["wh-p12-2020"]["targets"] = [
        {"metric": "电子证照", "op": ">=", "value": 80, "unit": "%", "indicator": "wh-i01", "part": "stops"}
    ]
    got = errors(data)
    where_35 = "nodes[11].children[1].milestones[0].targets"
    assert (
        f"{FILE}: {where_35}[3]: duplicate delivery to indicator wh-i04 part stops (first at {where_35}[2])"
        in got
    )
    missing = "missing: indicator wh-i04 has parts (realtime, stops); name the one delivered"
    assert f"{FILE}: {where_35}[0].part: {missing}" in got
    assert f"{FILE}: {where_35}[1].part: 'eta' is not a part of indicator wh-i04 (realtime, stops)" in got
    assert any(e.endswith("targets[0].part: indicator wh-i01 (电子证照使用率) has no parts") for e in got)
    assert len(got) == 4


def test_no_value_is_declared_for_a_descriptive_indicator(wh):
    data = copy.deepcopy(wh)
    ms = next(m for m in milestones_of(data).values() if m["key"] == "wh-p01-2020")
    ms["indicators"] = ["wh-i40"]
    ms["targets"] = [{"metric": "制度", "op": ">=", "value": 4, "unit": None, "indicator": "wh-i40"}]
    assert errors(data) == [
        f"{FILE}: nodes[0].children[0].milestones[0].targets[0].indicator: "
        "indicator wh-i40 (制度机制) is descriptive (assessed by level); no value can be declared"
    ]


def test_a_file_with_a_count_to_rate_link_writes_nothing(app, ctx, tmp_path):
    assert load_files([WEIHAI, ZHANGQIU]).ok
    before = rows()
    data = read(WEIHAI)
    ind(data, "wh-i22")["standard"] = {"indicator": "33", "quantity": "企业上云率", "unit": "家"}
    ind(data, "wh-i22")["name"] = "改过的名称"  # would be written if the file were accepted
    bad = write_copy(data, tmp_path / "weihai-1313.yaml")
    report = load_files([ZHANGQIU, bad])
    assert not report.ok and not report.plans
    assert [str(e) for e in report.errors] == [f"{bad}: indicators[21].standard.unit: {CLOUD}"]
    db.session.expire_all()
    assert rows() == before


def test_the_cli_names_file_and_path(app, tmp_path):
    data = read(WEIHAI)
    ind(data, "wh-i22")["standard"] = {"indicator": "33", "quantity": "企业上云率", "unit": "家"}
    bad = write_copy(data, tmp_path / "bad.yaml")
    result = app.test_cli_runner().invoke(args=["plans", "load", str(bad)])
    assert result.exit_code == 2
    assert (
        f"{bad}: indicators[21].standard.unit: 家 is not the unit % of sd-city-2019 indicator 33"
        in result.stderr
    )
    assert "nothing was loaded" in result.stderr
    with app.app_context():
        assert all(n == 0 for n in _counts().values())


def _counts():
    from tests.planio.helpers import counts

    return counts()
