"""Checks of plans/weihai-1313.yaml against its schema (plans/README.md) and the seed text.

Uses only PyYAML and networkx. The seed-text checks are skipped when the shared seeds
directory (../shared/seeds next to the repository) is not present.
"""

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "plans" / "weihai-1313.yaml"
SEED_FILE = ROOT.parent / "shared" / "seeds" / "002_2e44519c0d3942b8.txt"

KEY_RE = re.compile(r"^[a-z0-9-]+$")
OPS = {">=", ">", "<=", "<", "==", None}
DEPT_KINDS = {"government", "enterprise", "party", "judicial", "public_institution"}
NODE_KINDS = {"center", "system", "program", "framework", "task", "project", "group"}
TARGET_KEYS = {"metric", "op", "value", "unit", "indicator", "part"}


@pytest.fixture(scope="module")
def plan():
    with open(PLAN_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def walk(nodes, parent=None):
    for n in nodes:
        yield n, parent
        yield from walk(n.get("children", []) or [], n)


@pytest.fixture(scope="module")
def all_nodes(plan):
    return list(walk(plan["nodes"]))


@pytest.fixture(scope="module")
def milestones(all_nodes):
    return {m["key"]: (m, n) for n, _ in all_nodes for m in n.get("milestones", []) or []}


@pytest.fixture(scope="module")
def indicators(plan):
    return {i["name"]: i for i in plan["indicators"]}


@pytest.fixture(scope="module")
def seed():
    if not SEED_FILE.exists():
        pytest.skip("seed text not available")
    return SEED_FILE.read_text(encoding="utf-8")


# ------------------------------------------------------------------ header


def test_header(plan):
    assert plan["code"] == "weihai-1313"
    assert plan["issued"] == dt.date(2020, 8, 12)
    assert plan["period"] == {"start": dt.date(2020, 1, 1), "end": dt.date(2022, 12, 31)}
    assert plan["region"] == {"name": "威海市", "kind": "city", "parent": None}
    assert plan["standard"] == "sd-city-2019"
    assert plan["source"] == "002_2e44519c0d3942b8.txt"
    assert plan["targets"] == [
        {"stars": 4, "due": dt.date(2021, 10, 31)},
        {"stars": 5, "due": dt.date(2022, 12, 31)},
    ]


# ------------------------------------------------------------------ tree


def test_node_counts(all_nodes):
    kinds = Counter(n["kind"] for n, _ in all_nodes)
    assert kinds == {"center": 1, "system": 3, "program": 13, "project": 48}
    assert all(n["kind"] in NODE_KINDS for n, _ in all_nodes)
    # top level: center, 3 systems, 13 programs; projects only below them
    for n, parent in all_nodes:
        if n["kind"] == "project":
            assert parent is not None and parent["kind"] in {"center", "system", "program"}
        else:
            assert parent is None


def test_projects_per_node(all_nodes):
    per = Counter(p["key"] for n, p in all_nodes if n["kind"] == "project")
    assert per == {
        "wh-center": 2,
        "wh-s1": 4,
        "wh-s2": 2,
        "wh-s3": 2,
        "wh-g01": 5,
        "wh-g02": 4,
        "wh-g03": 1,
        "wh-g04": 3,
        "wh-g05": 3,
        "wh-g06": 4,
        "wh-g07": 3,
        "wh-g08": 3,
        "wh-g09": 2,
        "wh-g10": 2,
        "wh-g11": 2,
        "wh-g12": 4,
        "wh-g13": 2,
    }


def test_body_titles(all_nodes):
    titles = [n["title"] for n, _ in all_nodes if n["kind"] == "program"]
    assert titles[0] == "智慧政务提升工程" and titles[-1] == "数字经济提升工程"
    assert len(set(titles)) == 13
    systems = [n["title"] for n, _ in all_nodes if n["kind"] == "system"]
    assert systems == ["信息基础设施体系", "数据资源体系", "网络安全保障体系"]


def test_every_project_has_text_departments_and_milestones(all_nodes):
    for n, _ in all_nodes:
        assert n.get("text"), n["key"]
        assert n.get("departments"), n["key"]
        if n["kind"] == "project":
            assert n.get("milestones"), n["key"]
            for m in n["milestones"]:
                assert m["lead"] == n["departments"][0], m["key"]
                assert m["co"] == n["departments"][1:], m["key"]


# ------------------------------------------------------------------ keys, dates


def test_keys_unique(plan, all_nodes):
    keys = [n["key"] for n, _ in all_nodes]
    keys += [m["key"] for n, _ in all_nodes for m in n.get("milestones", []) or []]
    keys += [i["key"] for i in plan["indicators"]]
    dupes = [k for k, c in Counter(keys).items() if c > 1]
    assert not dupes
    assert all(KEY_RE.match(k) for k in keys)


def test_due_dates_in_range(plan, milestones):
    lo, hi = dt.date(2020, 1, 1), dt.date(2023, 12, 31)
    dues = [m["due"] for m, _ in milestones.values()]
    for i in plan["indicators"]:
        dues += [c["due"] for c in (i["four_star"], i["five_star"]) if c]
    dues += [t["due"] for t in plan["targets"]]
    assert dues
    for d in dues:
        assert isinstance(d, dt.date) and lo <= d <= hi, d


def test_milestone_targets_shape(milestones, plan):
    ind_keys = {i["key"] for i in plan["indicators"]}
    for key, (m, _) in milestones.items():
        for t in m.get("targets", []) or []:
            assert {"metric", "op", "value", "unit"} <= set(t) <= TARGET_KEYS, key
            assert t["op"] in OPS - {None} and isinstance(t["value"], (int, float)), key
            if "indicator" in t:  # a declared delivery names one of the milestone's indicators
                assert t["indicator"] in m["indicators"], key
        for ik in m.get("indicators", []) or []:
            assert ik in ind_keys, (key, ik)


# ------------------------------------------------------------------ departments


def test_departments(plan, all_nodes):
    names = [d["name"] for d in plan["departments"]]
    assert len(names) == len(set(names))
    assert all(d["kind"] in DEPT_KINDS for d in plan["departments"])
    used = set()
    for n, _ in all_nodes:
        used.update(n.get("departments", []) or [])
        for m in n.get("milestones", []) or []:
            used.add(m["lead"])
            used.update(m["co"])
    for i in plan["indicators"]:
        used.update(i["departments"])
    assert used <= set(names), used - set(names)
    assert set(names) <= used  # nothing listed that no row names
    kinds = {d["name"]: d["kind"] for d in plan["departments"]}
    assert names.count("市公安局") == 1
    for e in ("北洋集团", "城投集团", "威海文旅集团", "威海移动公司", "威海公交集团", "市水务集团"):
        assert kinds[e] == "enterprise"
    assert kinds["市委网信办"] == kinds["市委政法委"] == kinds["市委组织部"] == "party"
    assert kinds["市法院"] == kinds["市检察院"] == "judicial"
    assert "各区市政府、开发区管委" not in kinds  # split into its two units
    assert {"各区市政府", "开发区管委"} <= set(kinds)


# ------------------------------------------------------------------ dependencies


def test_dependencies(plan, milestones):
    g = nx.DiGraph()
    for d in plan["dependencies"]:
        assert d["predecessor"] in milestones, d
        assert d["successor"] in milestones, d
        assert d["predecessor"] != d["successor"]
        assert isinstance(d["inferred"], bool) and d["reason"]
        assert d["lag_days"] == 0
        # finish-to-start must be satisfiable with the published dates
        assert milestones[d["predecessor"]][0]["due"] <= milestones[d["successor"]][0]["due"]
        g.add_edge(d["predecessor"], d["successor"])
    assert nx.is_directed_acyclic_graph(g)
    pairs = Counter((d["predecessor"], d["successor"]) for d in plan["dependencies"])
    assert max(pairs.values()) == 1


def test_yearly_chains(plan, all_nodes):
    deps = {(d["predecessor"], d["successor"]): d for d in plan["dependencies"]}
    for n, _ in all_nodes:
        if n["kind"] != "project":
            continue
        ms = sorted(n["milestones"], key=lambda m: m["due"])
        for a, b in zip(ms, ms[1:], strict=False):
            d = deps[(a["key"], b["key"])]
            assert d["inferred"] is False and d["reason"] == "同一项目的后续年度阶段"


def test_planner_dependencies(plan, milestones):
    deps = {(d["predecessor"], d["successor"]): d for d in plan["dependencies"]}
    brain = deps[("wh-p07-2020", "wh-p02-2020")]  # 城市大脑 needs 数据共享交换平台
    assert brain["inferred"] is True
    assert milestones["wh-p07-2020"][1]["title"] == "扩建数据共享交换平台"
    assert milestones["wh-p02-2020"][1]["title"] == "城市大脑建设"
    # 时空大数据平台 (2021) after the 地理信息数据更新 (2020): same project, so the yearly chain edge
    assert "地理信息数据更新" in milestones["wh-p08-2020"][0]["text"]
    assert "时空大数据平台" in milestones["wh-p08-2021"][0]["text"]
    assert ("wh-p08-2020", "wh-p08-2021") in deps
    inferred = [d for d in plan["dependencies"] if d["inferred"]]
    assert len(inferred) >= 5
    assert all(d["reason"] and "\n" not in d["reason"] for d in inferred)


# ------------------------------------------------------------------ indicators


def test_indicator_counts(plan):
    assert len(plan["indicators"]) == 49
    per = Counter(i["table"].split(" ")[0] for i in plan["indicators"])
    assert per == {"表一": 11, "表二": 9, "表三": 8, "表四": 11, "表五": 6, "表六": 4}
    names = [i["name"] for i in plan["indicators"]]
    assert len(set(names)) == 49


def test_indicator_shape(plan):
    std = []
    for i in plan["indicators"]:
        assert i["category"] == i["table"].split(" ")[1]
        assert i["weight_four_star"] is None and i["weight_five_star"] is None
        assert i["star"] is False
        assert i["departments"]
        for cell, due in ((i["four_star"], dt.date(2021, 10, 31)), (i["five_star"], dt.date(2022, 12, 31))):
            if cell is None:
                continue
            assert cell["due"] == due
            assert cell["op"] in OPS
            assert (cell["op"] is None) == (cell["value"] is None)
            assert cell["target"]
        if i["standard"] is not None:
            assert 1 <= int(i["standard"]["indicator"]) <= 49
            std.append(i["standard"]["indicator"])
    assert len(std) == len(set(std))


@pytest.mark.parametrize(
    "name,four,five,depts,std",
    [
        ("电子证照使用率", (">=", 80), (">", 85), ["市行政审批服务局"], "13"),
        ("政务服务类APP应用", ("<=", 6), ("<=", 3), ["市大数据中心"], "17"),
        (
            "公共交通来车实时预报率",
            (">=", 90),
            (">=", 100),
            ["市交通运输局", "威海公交集团"],
            ("14", "stops"),
        ),
        ("智慧校园覆盖率", (">=", 60), (">=", 80), ["市教育局"], None),
        (
            "家庭能源自动化采集覆盖率",
            (">=", 75),
            (">=", 90),
            ["市水务局", "威海供电公司", "市住房城乡建设局", "市水务集团"],
            None,
        ),
        ("环境质量监测水平", (">", 80), (">", 90), ["市生态环境局"], "25"),
        ("多网格融合水平", (">=", 4), (">", 5), ["市委政法委"], None),
        (
            "市政管网管线智能化监测管理率",
            (">=", 85),
            (">=", 100),
            ["市发展改革委", "市住房城乡建设局", "市水务局", "市水务集团"],
            "9",
        ),
        ("建筑用能分项计量应用水平", None, (">=", 90), ["市住房城乡建设局"], "31"),
        (
            "软件业务收入",
            (">", 6),
            (">", 8),
            ["市工业和信息化局", "威海移动公司", "威海联通公司", "威海电信公司", "威海广电网络公司"],
            "32",
        ),
        ("万人有效发明专利增幅", (">=", 10), (">", 15), ["市市场监管局"], "39"),
        (
            "移动通信网络平均下载速率",
            (">=", 25),
            (">=", 30),
            ["威海移动公司", "威海联通公司", "威海电信公司", "威海广电网络公司"],
            "2",
        ),
        ("气象自动监测点覆盖情况", ("<", 5), ("<", 3), ["市气象局"], None),  # spacing, not a share
        (
            "5G网络覆盖率",
            (">=", 80),
            (">=", 90),
            ["威海移动公司", "威海联通公司", "威海电信公司", "威海广电网络公司"],
            "12",
        ),
        (
            "人才保障",
            (None, None),
            (None, None),
            ["市委组织部", "市人力资源社会保障局", "市大数据中心"],
            "42",
        ),
        (
            "项目培育",
            (">=", 200),
            (">", 300),
            ["市发展改革委", "市财政局", "市工业和信息化局", "市商务局", "市科技局"],
            None,  # a count, the standard's 44 a ratio
        ),
        ("信息安全", None, None, ["市委网信办", "市公安局", "市大数据中心"], "45"),
        ("智慧社区覆盖率", (">=", 30), (">", 50), ["市民政局", "市住房城乡建设局", "市大数据中心"], "49"),
    ],
)
def test_indicator_spot_checks(indicators, name, four, five, depts, std):
    i = indicators[name]
    for cell, want in ((i["four_star"], four), (i["five_star"], five)):
        if want is None:
            assert cell is None
        else:
            assert (cell["op"], cell["value"]) == want
    assert i["departments"] == depts
    link = i["standard"]
    if std is None:
        assert link is None
    else:
        number, part = std if isinstance(std, tuple) else (std, None)
        assert (link["indicator"], link.get("part")) == (number, part)


# ------------------------------------------------------------------ milestone spot checks


def _target(m, metric):
    return [(t["op"], t["value"], t["unit"]) for t in m.get("targets", []) if t["metric"] == metric]


def test_milestone_spot_checks(milestones, plan):
    ik = {i["name"]: i["key"] for i in plan["indicators"]}
    m = milestones["wh-p03-2020"][0]
    assert m["due"] == dt.date(2020, 12, 31)
    assert _target(m, "5G基站数量") == [(">=", 1500, "个")]
    assert _target(m, "5G示范应用场景") == [(">=", 10, "个")]
    assert _target(milestones["wh-p03-2022"][0], "5G基站数量") == [(">=", 5000, "个")]
    # 爱山东: 200 (2020) / 600 (2021) / 1000 (2022) 项, linked to the APP indicator
    for y, v in ((2020, 200), (2021, 600), (2022, 1000)):
        m = milestones[f"wh-p13-{y}"][0]
        assert m["due"] == dt.date(y, 12, 31)
        assert _target(m, "“掌上查”“掌上办”事项") == [(">=", v, "项")]
        assert ik["政务服务类APP应用"] in m["indicators"]
    # body's own 2020 target (300 项) differs from attachment 1 (200 项)
    assert _target(milestones["wh-g01-2020-zsb"][0], "“掌上查”“掌上办”事项") == [(">=", 300, "项")]
    # recurring 每年 items: one milestone per year
    for key in ("wh-p10", "wh-p37"):
        years = [milestones[f"{key}-{y}"][0]["due"].year for y in (2020, 2021, 2022)]
        assert years == [2020, 2021, 2022]
    # no-year projects fall due at the plan's end
    assert milestones["wh-p47-2022"][0]["due"] == dt.date(2022, 12, 31)
    assert milestones["wh-p48-2022"][0]["due"] == dt.date(2022, 12, 31)
    # body targets not repeated by attachment 1
    m = milestones["wh-g11-2021-campus"][0]
    assert m["due"] == dt.date(2021, 12, 31) and ik["智慧校园覆盖率"] in m["indicators"]
    assert _target(m, "智慧校园覆盖率") == [(">=", 60, "%")]
    assert _target(milestones["wh-g11-2021-wifi"][0], "学校无线网络覆盖率") == [(">=", 70, "%")]
    m = milestones["wh-g09-2021-community"][0]
    assert _target(m, "省级智慧社区覆盖率") == [(">=", 30, "%")] and m["lead"] == "市住房城乡建设局"
    assert ik["智慧社区覆盖率"] in m["indicators"]
    # 涉案财物管理中心 is led by 北洋集团; 刑事案件平台 by 市委政法委 with four co-units
    assert milestones["wh-p29-2020"][0]["lead"] == "北洋集团"
    m = milestones["wh-p27-2020"][0]
    assert m["lead"] == "市委政法委" and m["co"] == ["市法院", "市检察院", "市公安局", "市司法局"]
    # 数字园区: lead plus the split compound unit
    m = milestones["wh-p47-2022"][0]
    assert m["lead"] == "市工业和信息化局"
    assert m["co"] == ["市商务局", "市大数据中心", "各区市政府", "开发区管委"]
    # 工业互联网: 2021 target and indicator link
    m = milestones["wh-p05-2021"][0]
    assert _target(m, "工业互联网标识解析二级节点数量") == [(">=", 1, "个")]
    assert ik["工业互联网标识解析二级节点"] in m["indicators"]
    # 市政管网 85% by 2021
    m = milestones["wh-p20-2021"][0]
    assert _target(m, "市政管网管线智能化监测管理率") == [(">=", 85, "%")]


# ------------------------------------------------------------------ verbatim against the seed


def test_texts_verbatim(seed, all_nodes, milestones, plan):
    flat = seed.replace("\n", "")
    for n, _ in all_nodes:
        if n["kind"] == "project":
            assert n["text"] in seed, n["key"]
        else:  # body paragraphs may run across a page break
            assert n["text"] in flat, n["key"]
    for key, (m, node) in milestones.items():
        assert m["text"] in node["text"], key
    for i in plan["indicators"]:
        assert i["definition"] in seed, i["key"]
        assert i["name"] in seed, i["key"]
        for cell in (i["four_star"], i["five_star"]):
            if cell:
                assert cell["target"] in seed, i["key"]
                if cell["value"] is not None:
                    assert re.search(
                        r"(?<![\d.])" + re.escape(str(cell["value"])) + r"(?![\d])", cell["target"]
                    ), (i["key"], cell)


def test_departments_in_seed(seed, plan):
    for d in plan["departments"]:
        assert d["name"] in seed, d["name"]


def test_project_titles_in_seed(seed, all_nodes):
    squashed = seed.replace(" ", "")
    for n, _ in all_nodes:
        if n["kind"] == "project":
            assert n["title"].replace(" ", "") in squashed, n["key"]
