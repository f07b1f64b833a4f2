"""Every link of both real plans measures what it names (plans/README.md, Readings).

A link to the standard names the standard indicator's own quantity and unit and is fed
by a part or an indicator in that unit; a declared milestone delivery is in the unit of
the indicator (or part) it feeds. Uses only PyYAML: the plan files and the standards.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLANS = {"weihai-1313": "sd-city-2019", "zhangqiu-3n": "sd-county-2019"}
# Units of the fields of the standard's compound inputs (spec/scoring.md and the cells).
FIELD_UNITS = {
    "coverage_intact": {"coverage": "%", "intact": "%"},
    "contribution_departments": {"contribution": "%", "departments": "个"},
    "pilots": {"national": "项", "provincial": "项", "related": "项"},
    "parks": {"municipal": "家", "provincial": "家"},
}


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module", params=list(PLANS))
def plan(request):
    return _load(ROOT / "plans" / f"{request.param}.yaml")


@pytest.fixture(scope="module")
def standard(plan):
    std = _load(ROOT / "plans" / "standards" / f"{plan['standard']}.yaml")
    return {i["number"]: i for i in std["indicators"]}


def _milestones(nodes):
    for n in nodes or []:
        yield from n.get("milestones") or []
        yield from _milestones(n.get("children"))


def test_every_link_names_the_standards_quantity_and_unit(plan, standard):
    for ind in plan["indicators"]:
        link = ind["standard"]
        if link is None:
            continue
        row = standard[link["indicator"]]
        assert link["quantity"] == row["name"], ind["key"]
        assert link["unit"] == row["unit"], ind["key"]
        parts = {p["key"]: p for p in ind.get("parts") or []}
        if "part" in link:  # one measured part feeds a scalar standard input
            assert row["input"] not in FIELD_UNITS, ind["key"]
            assert parts[link["part"]]["unit"] == link["unit"], ind["key"]
        else:
            assert ind["unit"] == link["unit"], ind["key"]
            if parts:  # the parts are the fields of the standard's compound input
                fields = FIELD_UNITS[row["input"]]
                assert {k: p["unit"] for k, p in parts.items()} == {k: fields[k] for k in parts}, ind["key"]


def test_every_compound_target_names_its_parts(plan):
    for ind in plan["indicators"]:
        keys = [p["key"] for p in ind.get("parts") or []]
        for band in ("four_star", "five_star"):
            cell = ind[band]
            if cell is None:
                continue
            if not keys:
                assert "part" not in cell and "and" not in cell, ind["key"]
                continue
            named = [cell["part"]] + [c["part"] for c in cell.get("and") or []] if cell["op"] else []
            assert len(named) == len(set(named)) and set(named) <= set(keys), ind["key"]
            if "且" in cell["target"] or "均" in cell["target"]:
                assert len(named) == 2, (ind["key"], band)  # both named quantities are judged
            for cond in cell.get("and") or []:  # each further value is printed in the target
                assert re.search(rf"(?<![\d.]){cond['value']}(?![\d])", cell["target"]), (ind["key"], cond)


def test_declared_deliveries_are_in_the_indicators_unit(plan):
    inds = {i["key"]: i for i in plan["indicators"]}
    declared = 0
    for m in _milestones(plan["nodes"]):
        for t in m.get("targets") or []:
            if "indicator" not in t:
                continue
            declared += 1
            ind = inds[t["indicator"]]
            assert t["indicator"] in m["indicators"], m["key"]
            parts = {p["key"]: p for p in ind.get("parts") or []}
            unit = parts[t["part"]]["unit"] if parts else ind["unit"]
            assert t["unit"] == unit, (m["key"], t)
    assert declared == {"weihai-1313": 7, "zhangqiu-3n": 7}[plan["code"]]


# The readings of plans/README.md, frozen: which indicators are not linked (no
# counterpart, or another quantity), which feed the standard through a part, and the
# compound indicators with their parts.
UNLINKED = {
    "weihai-1313": {
        # no counterpart in the city standard
        "智能照明设备安装率",
        "智慧校园覆盖率",
        "医院智慧服务水平",
        "家庭能源自动化采集覆盖率",
        "多网格融合水平",
        "国家新型工业化产业示范基地",
        "工业互联网标识解析二级节点",
        # another quantity: counts against rates, spacing against a share, 部门 against 数据类别,
        # 电商交易额 against 网上零售额, an amount or a count against a level
        "企业上云规模",
        "电子商务",
        "气象自动监测点覆盖情况",
        "资金投入",
        "项目培育",
        "数据资源共享水平",
        "宣传体验",
    },
    "zhangqiu-3n": {
        "智慧校园覆盖率",
        "医院智慧服务水平",
        "多网格融合水平",
        "国家新型工业化产业示范基地",
        "工业互联网标识解析二级节点",
        "智慧城市底座",
        "数据资源共享水平",
        "企业上云规模",
        "电子商务",
        "资金投入",
        "项目培育",
        "宣传体验",
        "创新示范",
    },
}
PART_LINKS = {
    "weihai-1313": {"公共交通来车实时预报率": ("14", "stops"), "创新示范": ("48", "provincial")},
    "zhangqiu-3n": {"公共交通来车实时预报率": ("13", "stops")},
}
COMPOUND = {
    "weihai-1313": {
        "公共交通来车实时预报率": ["realtime", "stops"],
        "公共安全视频图像应用": ["contribution", "departments"],
        "视频监控完善程度": ["coverage", "intact"],
        "工作试点": ["national", "provincial"],
        "创新示范": ["provincial", "national"],
    },
    "zhangqiu-3n": {
        "公共交通来车实时预报率": ["realtime", "stops"],
        "数字经济园区": ["municipal", "provincial"],
        "公共安全视频图像应用": ["contribution", "departments"],
        "视频监控完善程度": ["coverage", "intact"],
        "工作试点": ["national", "provincial"],
    },
}


def test_the_readings(plan):
    code = plan["code"]
    assert {i["name"] for i in plan["indicators"] if i["standard"] is None} == UNLINKED[code]
    part_links = {
        i["name"]: (i["standard"]["indicator"], i["standard"]["part"])
        for i in plan["indicators"]
        if i["standard"] and "part" in i["standard"]
    }
    assert part_links == PART_LINKS[code]
    compound = {i["name"]: [p["key"] for p in i["parts"]] for i in plan["indicators"] if i.get("parts")}
    assert compound == COMPOUND[code]


def test_weihai_project_readings():
    plan = _load(ROOT / "plans" / "weihai-1313.yaml")
    ms = {m["key"]: m for m in _milestones(plan["nodes"])}
    # the cloud centre's size describes the finished extension (2022), not the start
    assert "targets" not in ms["wh-p06-2020"]
    assert [t["metric"] for t in ms["wh-p06-2022"]["targets"]] == ["扩建机房面积（约）", "配置机柜（约）"]
    # attachment 1 names the lead of these body deliverables
    assert (ms["wh-g01-2020-zsb"]["lead"], ms["wh-g01-2020-zsb"]["co"][0]) == (
        "市大数据中心",
        "市行政审批服务局",
    )
    assert (ms["wh-s1-2021-ipv6"]["lead"], ms["wh-s1-2021-ipv6"]["co"]) == (
        "市大数据中心",
        ["市工业和信息化局"],
    )
    # “提供数据支撑” implies the order, it does not state it
    [dep] = [
        d
        for d in plan["dependencies"]
        if (d["predecessor"], d["successor"]) == ("wh-p39-2021", "wh-p18-2022")
    ]
    assert dep["inferred"] is True and dep["reason"]
    # no value is declared where the text gives none, or gives another quantity
    declared = {
        (m["key"], t["indicator"]) for m in ms.values() for t in m.get("targets") or [] if "indicator" in t
    }
    assert ("wh-p12-2020", "wh-i01") not in declared  # 电子证照: “有效提高…使用率”, no number
    assert ("wh-p05-2021", "wh-i27") not in declared  # 二级节点 1 个 against the indicator's 家
    assert ("wh-p35-2020", "wh-i04") not in declared
