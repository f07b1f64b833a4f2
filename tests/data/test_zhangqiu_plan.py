"""Checks of plans/zhangqiu-3n.yaml against its source, 003_4b6d37cfb8af07de.txt
(济南市章丘区人民政府 章政发〔2020〕3号, 2020-07-02)."""

import datetime as dt
import re
from pathlib import Path

import networkx as nx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "plans" / "zhangqiu-3n.yaml"
SEED_FILE = ROOT.parent / "shared" / "seeds" / "003_4b6d37cfb8af07de.txt"

DEPT_KINDS = {"government", "enterprise", "party", "judicial", "public_institution"}
NODE_KINDS = {"center", "system", "program", "framework", "task", "project", "group"}
OPS = {">=", ">", "<=", "<", "==", None}
KEY_RE = re.compile(r"^[a-z0-9-]+$")
FIRST, LAST = dt.date(2020, 1, 1), dt.date(2023, 12, 31)
D4, D5 = dt.date(2021, 12, 31), dt.date(2023, 12, 31)


@pytest.fixture(scope="module")
def plan():
    with open(PLAN_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n.get("children") or [])


@pytest.fixture(scope="module")
def nodes(plan):
    return list(walk(plan["nodes"]))


@pytest.fixture(scope="module")
def milestones(nodes):
    return {m["key"]: m for n in nodes for m in n.get("milestones") or []}


@pytest.fixture(scope="module")
def ind(plan):
    return {i["number"]: i for i in plan["indicators"]}


@pytest.fixture(scope="module")
def seed():
    if not SEED_FILE.exists():
        pytest.skip("seed text not available")
    text = SEED_FILE.read_text(encoding="utf-8")
    text = re.sub(r"\n\s*-\s*\d+\s*-\s*\n", "\n", text)  # page numbers
    return re.sub(r"\s+", "", text)


def squash(s):
    return re.sub(r"\s+", "", s)


# ------------------------------------------------------------------ header
def test_header(plan):
    assert plan["code"] == "zhangqiu-3n"
    assert plan["source"] == "003_4b6d37cfb8af07de.txt"
    assert plan["issued"] == dt.date(2020, 7, 2)
    assert plan["period"] == {"start": dt.date(2020, 7, 2), "end": dt.date(2023, 12, 31)}
    assert plan["region"] == {"name": "章丘区", "kind": "county", "parent": "济南市"}
    assert plan["standard"] == "sd-county-2019"
    assert plan["targets"] == [{"stars": 4, "due": D4}, {"stars": 5, "due": D5}]


# ------------------------------------------------------------------ tree
def test_exactly_22_projects(nodes):
    projects = [n for n in nodes if n["kind"] == "project"]
    assert len(projects) == 22
    numbers = [n["number"] for n in projects]
    cn = "一 二 三 四 五 六 七 八 九 十 十一 十二 十三 十四 十五 十六 十七 十八 十九 二十".split()
    assert numbers == ["二（一）", "二（二）"] + [f"（{c}）" for c in cn]


def test_three_plus_n(nodes):
    by_key = {n["key"]: n for n in nodes}
    assert by_key["zq-center"]["kind"] == "center"
    assert "新型智慧城市运营中心" in by_key["zq-center"]["text"]
    assert "GIS 空间地理信息共享平台" in by_key["zq-map"]["text"]
    assert "市民大数据服务平台" in by_key["zq-platform"]["text"]
    programs = [n for n in by_key["zq-n"]["children"] if n["kind"] == "program"]
    assert [p["number"] for p in programs] == ["三", "四", "五", "六"]
    assert [len(p["children"]) for p in programs] == [7, 4, 5, 4]


def test_node_kinds(nodes):
    assert all(n["kind"] in NODE_KINDS for n in nodes)


def test_keys_unique_and_well_formed(plan, nodes):
    keys = [n["key"] for n in nodes]
    keys += [m["key"] for n in nodes for m in n.get("milestones") or []]
    keys += [i["key"] for i in plan["indicators"]]
    assert len(keys) == len(set(keys))
    assert all(KEY_RE.match(k) for k in keys)


def test_every_project_has_a_milestone_led_by_its_lead(nodes):
    for n in nodes:
        if n["kind"] != "project":
            continue
        assert n.get("milestones"), n["key"]
        for m in n["milestones"]:
            assert m["lead"] == n["departments"][0], m["key"]
            assert m["co"] == n["departments"][1:], m["key"]


# ------------------------------------------------------------------ departments
def test_departments_listed_once_and_all_referenced_listed(plan, nodes):
    names = [d["name"] for d in plan["departments"]]
    assert len(names) == len(set(names))
    assert all(d["kind"] in DEPT_KINDS for d in plan["departments"])
    listed = set(names)
    used = set()
    for n in nodes:
        used |= set(n.get("departments") or [])
        for m in n.get("milestones") or []:
            used.add(m["lead"])
            used |= set(m["co"])
    for i in plan["indicators"]:
        used |= set(i["departments"])
    assert used <= listed, used - listed


def test_department_kinds(plan):
    kind = {d["name"]: d["kind"] for d in plan["departments"]}
    for name in (
        "中国移动章丘分公司",
        "中国联通章丘分公司",
        "中国电信章丘分公司",
        "中国铁塔章丘办事处",
        "区公交公司",
        "区停车运营公司",
        "区供电公司",
    ):
        assert kind[name] == "enterprise"
    assert kind["区委政法委"] == "party"
    assert kind["区大数据局"] == "government"
    # short forms from the attachment are normalised, not listed twice
    for short in ("区工信局", "区交运局", "区住建局", "区卫健局", "区生态环境分局", "各有关镇街", "移动"):
        assert short not in kind


# ------------------------------------------------------------------ dependencies
def test_dependencies_refer_to_milestones_and_are_acyclic(plan, milestones):
    g = nx.DiGraph()
    g.add_nodes_from(milestones)
    for d in plan["dependencies"]:
        assert d["predecessor"] in milestones, d
        assert d["successor"] in milestones, d
        assert isinstance(d["inferred"], bool)
        assert d["reason"]
        assert d["lag_days"] == 0
        # finish-to-start: successor cannot be due before its predecessor
        assert milestones[d["predecessor"]]["due"] <= milestones[d["successor"]]["due"], d
        g.add_edge(d["predecessor"], d["successor"])
    assert nx.is_directed_acyclic_graph(g)


def test_stated_dependency_of_task_9(plan):
    deps = {(d["predecessor"], d["successor"]): d for d in plan["dependencies"]}
    d = deps[("zq-t09-base", "zq-t09-2021")]
    assert d["inferred"] is False
    assert "在完成上述工作的基础上" in d["reason"]


# ------------------------------------------------------------------ dates
def test_due_dates_in_range(plan, milestones):
    for m in milestones.values():
        assert isinstance(m["due"], dt.date)
        assert FIRST <= m["due"] <= LAST, m["key"]
    for i in plan["indicators"]:
        for col, due in (("four_star", D4), ("five_star", D5)):
            if i[col] is not None:
                assert i[col]["due"] == due
                assert FIRST <= i[col]["due"] <= LAST


def test_milestone_dates_against_text(milestones):
    # 两年内 from 2020-07-02
    assert milestones["zq-f2-broadband"]["due"] == dt.date(2022, 7, 2)
    assert milestones["zq-f2-5g"]["due"] == dt.date(2022, 7, 2)
    assert {"metric": "5G 通信基站数量", "op": ">=", "value": 800, "unit": "个"} in milestones["zq-f2-5g"][
        "targets"
    ]
    # 力争在 2020 年基本实现 … 雪亮工程
    assert milestones["zq-t15-2020"]["due"] == dt.date(2020, 12, 31)
    # 到 2021 年实现智慧社区覆盖率达 40%
    m = milestones["zq-t16-2021"]
    assert m["due"] == D4 and m["lead"] == "区住房和城乡建设局"
    assert m["targets"] == [
        {"metric": "智慧社区覆盖率", "op": ">=", "value": 40, "unit": "%", "indicator": "zq-i44"}
    ]
    assert m["indicators"] == ["zq-i44"]
    # 到 2021 年，电子警察监控点覆盖率达到 90%以上，交通路口实时信号配时系统比例达到 60%以上
    vals = {t["metric"]: t["value"] for t in milestones["zq-t09-2021"]["targets"]}
    assert vals == {"电子警察监控点覆盖率": 90, "交通路口实时信号配时系统比例": 60}
    # 数据需求 3 个工作日内反馈，数据服务 10 个工作日内提供到位
    assert [(t["op"], t["value"]) for t in milestones["zq-t05-2021"]["targets"]] == [("<=", 3), ("<=", 10)]


def test_milestone_indicator_links_exist(plan, milestones):
    keys = {i["key"] for i in plan["indicators"]}
    for m in milestones.values():
        assert set(m.get("indicators") or []) <= keys, m["key"]
        for t in m.get("targets") or []:
            assert t["op"] in OPS - {None} and isinstance(t["value"], (int, float))


# ------------------------------------------------------------------ indicators
def test_45_indicators(plan, ind):
    assert len(plan["indicators"]) == 45
    assert list(ind) == [str(n) for n in range(1, 46)]
    cats = [i["category"] for i in plan["indicators"]]
    assert (
        cats
        == ["数字惠民"] * 9
        + ["数字政府"] * 7
        + ["数字经济"] * 8
        + ["基础设施"] * 10
        + ["保障措施"] * 6
        + ["地方特色"] * 5
    )


def test_indicator_fields(plan):
    for i in plan["indicators"]:
        for col in ("four_star", "five_star"):
            c = i[col]
            if c is None:
                continue
            assert c["op"] in OPS
            assert (c["op"] is None) == (c["value"] is None), i["number"]
        assert i["departments"]
        s = i["standard"]
        assert s is None or (isinstance(s["indicator"], str) and 1 <= int(s["indicator"]) <= 52)


def test_weight_sums(plan):
    w4 = sum(i["weight_four_star"] or 0 for i in plan["indicators"])
    w5 = sum(i["weight_five_star"] or 0 for i in plan["indicators"])
    # the published percentages add up to 80 % (四星) and 100 % (五星)
    assert w4 == pytest.approx(80.0)
    assert w5 == pytest.approx(100.0)


def test_star_flags(ind):
    assert {n for n, i in ind.items() if i["star"]} == {"3", "12", "19", "21", "23", "24", "32", "38", "39"}


def test_spot_checks(ind):
    i = ind["1"]  # 电子证照使用率
    assert (i["four_star"]["op"], i["four_star"]["value"], i["weight_four_star"]) == (">=", 80, 2.5)
    assert (i["five_star"]["op"], i["five_star"]["value"], i["weight_five_star"]) == (">", 85, 3.0)
    assert i["departments"] == ["区大数据局", "各相关部门"] and i["standard"]["indicator"] == "12"

    i = ind["5"]  # 爱山东 分厅排名
    assert (i["four_star"]["op"], i["four_star"]["value"]) == ("<=", 50)
    assert (i["five_star"]["op"], i["five_star"]["value"], i["weight_five_star"]) == ("<=", 25, 3.0)

    i = ind["10"]  # 环境质量监测水平
    assert i["departments"] == ["市生态环境局章丘分局"]
    assert (i["five_star"]["op"], i["five_star"]["value"]) == (">", 90)

    i = ind["13"]  # 市政管网管线
    assert i["departments"] == ["区发展和改革局", "区住房和城乡建设局", "区城乡水务局", "区公用事业发展中心"]
    assert (i["weight_four_star"], i["weight_five_star"]) == (1.2, 1.5)

    i = ind["16"]  # single published cell, read as 五星
    assert i["four_star"] is None and i["weight_four_star"] is None
    assert (i["five_star"]["value"], i["weight_five_star"]) == (80, 0.5)
    assert i["departments"] == ["区住房和城乡建设局", "区机关事务服务中心"]

    i = ind["24"]
    assert i["four_star"] is None and (i["five_star"]["value"], i["weight_five_star"]) == (1, 1.5)

    i = ind["26"]  # 移动通信网络平均下载速率
    assert i["unit"] == "Mbit/s" and i["four_star"]["value"] == 25 and i["five_star"]["value"] == 30
    assert i["departments"] == [
        "中国移动章丘分公司",
        "中国联通章丘分公司",
        "中国电信章丘分公司",
        "中国铁塔章丘办事处",
    ]

    i = ind["33"]  # 5G
    assert (
        i["four_star"]["value"],
        i["weight_four_star"],
        i["five_star"]["value"],
        i["weight_five_star"],
    ) == (50, 2.5, 80, 3.0)
    assert i["standard"]["indicator"] == "11"

    i = ind["38"]  # 资金投入★
    assert (i["four_star"]["value"], i["weight_four_star"]) == (2000, 5.0)
    assert (i["five_star"]["value"], i["weight_five_star"]) == (5000, 6.0)
    assert i["departments"] == ["区大数据局", "区财政局"]

    i = ind["40"]  # 信息安全: a deduction, no weight
    assert i["weight_four_star"] is None and i["weight_five_star"] is None
    assert "扣除指标总分值的 2%" in i["four_star"]["target"]

    i = ind["43"]  # 创新示范
    assert (i["weight_four_star"], i["weight_five_star"]) == (10.0, 12.0)
    assert i["departments"] == ["区大数据局", "区行政审批服务局", "区卫生健康局"]

    i = ind["44"]  # 智慧社区覆盖率
    assert (i["four_star"]["op"], i["four_star"]["value"], i["weight_four_star"]) == (">=", 40, 4.0)
    assert (i["five_star"]["op"], i["five_star"]["value"], i["weight_five_star"]) == (">", 80, 5.0)
    assert i["departments"] == ["区住房和城乡建设局", "区大数据局", "各镇街"]
    assert i["standard"]["indicator"] == "52"

    i = ind["45"]
    assert i["four_star"] is None and i["five_star"] is None


def test_project_departments(nodes):
    by_key = {n["key"]: n for n in nodes}
    assert by_key["zq-f2"]["departments"][0] == "区工业和信息化局"
    assert by_key["zq-t10"]["departments"] == [
        "市生态环境局章丘分局",
        "区城市管理局",
        "区住房和城乡建设局",
        "区交警大队",
    ]
    assert by_key["zq-t12"]["departments"][:2] == ["区委政法委", "区政府办公室"]
    assert by_key["zq-t19"]["departments"] == [
        "区发展和改革局",
        "区工业和信息化局",
        "区住房和城乡建设局",
        "区自然资源局",
        "区市场监督管理局",
        "区税务局",
        "区统计局",
        "区商务服务中心",
    ]


# ------------------------------------------------------------------ verbatim against the seed
INTERLEAVED = {  # rows whose cells the extraction interleaved: row start, next row start
    "5": ("5政务服务类", "6医院智慧服务水"),
    "13": ("13市政管网管线智", "14数据资源共享水"),
    "35": ("35制度机制", "36规划计划"),
}


def is_subsequence(needle, hay):
    it = iter(hay)
    return all(ch in it for ch in needle)


def test_texts_verbatim(nodes, milestones, seed):
    for n in nodes:
        if n.get("text"):
            assert squash(n["text"]) in seed, n["key"]
    for m in milestones.values():
        for part in m["text"].split("……"):
            assert squash(part) in seed, m["key"]


def test_indicator_cells_verbatim(plan, seed):
    for i in plan["indicators"]:
        cells = [i["definition"]] + [i[c]["target"] for c in ("four_star", "five_star") if i[c]]
        if i["number"] in INTERLEAVED:
            a, b = INTERLEAVED[i["number"]]
            region = seed[seed.index(a) : seed.index(b)]
            for c in cells:
                assert is_subsequence(squash(c), region), (i["number"], c)
        else:
            assert squash(i["name"]) in seed, i["number"]
            for c in cells:
                assert squash(c) in seed, (i["number"], c)


def test_task_departments_match_parentheticals(nodes, seed):
    alias = {"各有关镇街": "各镇街"}
    for n in nodes:
        if n["kind"] != "project":
            continue
        start = seed.index(squash(n["text"])) + len(squash(n["text"]))
        m = re.match(r"（牵头单位：(.*?)；责任单位：(.*?)）", seed[start:])
        assert m, n["key"]
        named = [alias.get(x, x) for x in re.split("[、，]", m.group(1)) + re.split("[、，]", m.group(2))]
        assert named == n["departments"], n["key"]
