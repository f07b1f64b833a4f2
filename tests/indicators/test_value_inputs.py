"""Value shapes per input kind: reading a form, the engine's verdict in Chinese, rendering."""

import re

import pytest
from werkzeug.datastructures import MultiDict

from app.engines.standards import load_standard
from app.indicators.values import ValueInputError, describe, read_value, standard_spec, validate


def _spec(number, code="sd-city-2019"):
    standard = load_standard(code)
    std = next(i for i in standard["indicators"] if i["number"] == number)
    return standard_spec(standard, std)


@pytest.mark.parametrize(
    "code,number,value,expected",
    [
        ("sd-city-2019", "17", 0, "排名应为从 1 起的整数（1 为最好），收到 0"),
        ("sd-city-2019", "17", 2.5, "排名应为从 1 起的整数"),
        ("sd-county-2019", "15", 120, "排名位次百分比应大于 0 且不超过 100，收到 120"),
        ("sd-city-2019", "5", -1, "数值不能为负数，收到 -1"),
        ("sd-city-2019", "4", {"coverage": 90}, "该指标须分项填写：高清视频监控覆盖率、视频监控摄像机完好率"),
        ("sd-city-2019", "6", {"contribution": 50, "departments": 2.5}, "服务的其他政府部门数必须是整数"),
        ("sd-city-2019", "15", {"wifi": 1, "multimedia": 2}, "请填写平均值，或完整填写三个分项"),
        ("sd-city-2019", "29", 50, "描述性指标只能按档次评定"),
        ("sd-city-2019", "45", {"level": 2}, "扣分项不能按档次评定"),
        ("sd-city-2019", "45", 1.5, "失泄密事件起数必须是整数"),
        ("sd-city-2019", "1", {"level": 7}, "档次应为 0 到 5 的整数，收到 7"),
        ("sd-city-2019", "1", {"level": 2, "x": 1}, "按档次评定时只能填写档次"),
        ("sd-city-2019", "46", {"national": -1, "provincial": 0}, "国家级智慧城市试点不能为负数"),
        ("sd-county-2019", "37", {"municipal": 1}, "该指标须分项填写：市级数字经济园区、省级数字经济园区"),
    ],
)
def test_engine_refusals_in_chinese(code, number, value, expected):
    spec = _spec(number, code)
    with pytest.raises(ValueInputError) as info:
        validate(spec, value)
    [message] = info.value.messages
    prefix = f"标准第 {number} 项（{spec.std['name']}）："
    assert message.startswith(prefix) and expected in message
    assert not re.search(r"[A-Za-z]{3,}", message[len(prefix) :]), message  # no English left


def test_accepted_values_score():
    assert validate(_spec("5"), 85) == {"points": 6, "level": 3}
    assert validate(_spec("6"), {"contribution": 60, "departments": 5}) == {"points": 8, "level": 4}
    assert validate(_spec("29"), {"level": 2}) == {"points": 0, "level": 0}  # a "/" column: nothing lower


def test_reading_parts_and_compounds():
    parts = _spec("25")  # air, water, noise
    assert read_value(parts, MultiDict({"air": "31.4", "water": "32.8", "noise": "25.8"})) == {
        "air": 31.4,
        "water": 32.8,
        "noise": 25.8,
    }
    assert read_value(parts, MultiDict({"value": "30"})) == 30
    with pytest.raises(ValueInputError, match="三个分项须全部填写，缺少：噪音信息化监测覆盖率"):
        read_value(parts, MultiDict({"air": "31", "water": "32"}))
    with pytest.raises(ValueInputError, match="请只填写三个分项，或只填写平均值"):
        read_value(parts, MultiDict({"air": "31", "water": "32", "noise": "1", "value": "20"}))
    pilots = _spec("46")
    assert read_value(pilots, MultiDict({"national": "1", "provincial": "2"})) == {
        "national": 1,
        "provincial": 2,
    }
    assert read_value(pilots, MultiDict({"level": "3"})) == {"level": 3}
    with pytest.raises(ValueInputError, match="该指标不能按档次评定"):
        read_value(_spec("45"), MultiDict({"level": "1"}))


def test_describe():
    assert describe(_spec("5"), 85.0) == "85%"
    assert describe(_spec("2"), 27.5) == "27.5 Mbit/s"
    assert describe(_spec("29"), {"level": 4}) == "评定为四星档"
    assert (
        describe(_spec("4"), {"coverage": 95, "intact": 90})
        == "高清视频监控覆盖率 95%，视频监控摄像机完好率 90%"
    )
    assert describe(_spec("5"), None) == "—"


def test_unmapped_indicators():
    from types import SimpleNamespace

    from app.indicators.values import entry_spec

    def ind(**kw):
        base = dict(name="智慧社区建设", unit="%", standard_indicator=None, four_star_value=None)
        base.update(five_star_value=None, four_star_target=None, five_star_target=None)
        return SimpleNamespace(**{**base, **kw})

    numeric = entry_spec(
        ind(four_star_value=30, four_star_target="覆盖率达到30%"), load_standard("sd-city-2019")
    )
    assert numeric.kind == "number" and not numeric.levels and numeric.std is None
    assert read_value(numeric, MultiDict({"value": "2.5"})) == 2.5  # no standard: any percentage
    assert validate(numeric, 2.5) is None
    for outside in ("-2.5", "101"):  # but a percentage all the same (app/engines/limits.py)
        with pytest.raises(ValueInputError, match="百分数.*应在 0 到 100 之间"):
            read_value(numeric, MultiDict({"value": outside}))
    descriptive = entry_spec(ind(four_star_target="建成市级平台", five_star_target="平台全市推广"), None)
    assert descriptive.level_required and [lv.text for lv in descriptive.levels][4:] == [
        "建成市级平台",
        "平台全市推广",
    ]
    with pytest.raises(ValueInputError, match="指标“智慧社区建设”：请选择达到的档次"):
        read_value(descriptive, MultiDict({"value": "3"}))
    assert read_value(descriptive, MultiDict({"level": "4"})) == {"level": 4}
