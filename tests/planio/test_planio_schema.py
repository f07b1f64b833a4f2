"""The plan file schema (plans/README.md): the real files pass, and every kind of
mistake is reported with file, path and problem, all of them at once."""

import copy

import pytest

from app.planio.schema import validate, validate_file
from tests.planio.helpers import WEIHAI, ZHANGQIU, milestones_of, read


@pytest.fixture(scope="module")
def zq():
    return read(ZHANGQIU)


def problems(data, name="zq.yaml") -> dict:
    errors = validate(data, name)
    assert all(e.file == name for e in errors)
    return {e.path: e.problem for e in errors}


@pytest.mark.parametrize("path", [WEIHAI, ZHANGQIU])
def test_real_plans_are_valid(path):
    data, errors = validate_file(path)
    assert errors == []
    assert data["code"] == path.stem


def test_errors_are_collected_with_paths(zq):
    data = copy.deepcopy(zq)
    data["indicators"][12]["four_star"]["value"] = "ninety"
    data["indicators"][3]["departments"] = ["区大数据中心"]
    data["indicators"][4]["key"] = data["indicators"][3]["key"]
    data["targets"][0]["due"] = "2021-02-30"
    data["region"]["kind"] = "province"
    data["departments"][1]["kind"] = "ministry"
    data["nodes"][0]["color"] = "red"
    del data["title"]
    got = problems(data)
    assert got["indicators[12].four_star.value"] == "expected number, got str 'ninety'"
    assert "'区大数据中心' is not listed" in got["indicators[3].departments[0]"]
    assert got["indicators[4].key"] == "duplicate key 'zq-i04' (first at indicators[3].key)"
    assert "invalid date '2021-02-30'" in got["targets[0].due"]
    assert "'province' is not one of city, county" in got["region.kind"]
    assert "'ministry' is not one of" in got["departments[1].kind"]
    assert got["nodes[0].color"] == "unknown field"
    assert got["title"] == "missing"
    # zq-i05 was renamed away, so the milestone that names it now points nowhere
    assert [v for v in got.values() if "zq-i05" in v] == ["unknown indicator 'zq-i05'"]
    assert len(got) == 9


def test_references_and_dependencies(zq):
    data = copy.deepcopy(zq)
    ms = milestones_of(data)
    ms["zq-t04-2021"]["indicators"] = ["zq-i99"]
    ms["zq-t05-2021"]["co"] = ["区大数据局"]  # already the lead
    ms["zq-t06-2021"]["lead"] = "区教委"
    data["dependencies"] += [
        {"predecessor": "zq-t04-2021", "successor": "zq-t02-2021"},  # t02 → t04 is in the file
        {"predecessor": "zq-t02-2021", "successor": "zq-t02-2021"},
        {"predecessor": "zq-f1", "successor": "zq-nope"},
        dict(data["dependencies"][0]),
        {"predecessor": "zq-t06-2021", "successor": "zq-t07-2021", "inferred": True},
    ]
    got = problems(data)
    n = len(zq["dependencies"])
    assert any(p.endswith("indicators[0]") and v == "unknown indicator 'zq-i99'" for p, v in got.items())
    assert any(p.endswith("co[0]") and "already the lead" in v for p, v in got.items())
    assert any(p.endswith(".lead") and "'区教委' is not listed" in v for p, v in got.items())
    cycle = got[f"dependencies[{n}]"]  # reported at the edge that closes it
    assert cycle.startswith("dependency cycle ")
    assert set(cycle.split(" (")[0].split()[2:]) == {"zq-t02-2021", "zq-t04-2021", "→"}
    assert got[f"dependencies[{n + 1}]"] == "'zq-t02-2021' cannot depend on itself"
    assert got[f"dependencies[{n + 2}].predecessor"] == "'zq-f1' is a node, not a milestone"
    assert got[f"dependencies[{n + 2}].successor"] == "'zq-nope' is not a milestone key"
    assert "duplicate dependency" in got[f"dependencies[{n + 3}]"]
    assert "needs a one-line reason" in got[f"dependencies[{n + 4}].reason"]


def test_longer_cycle_is_named_once(zq):
    data = copy.deepcopy(zq)
    n = len(data["dependencies"])
    # with t02 → t03 and t18 → t19 in the file these close one four-step cycle
    data["dependencies"] += [
        {"predecessor": "zq-t19-2021", "successor": "zq-t02-2021"},
        {"predecessor": "zq-t03-2021", "successor": "zq-t18-2021"},
    ]
    errors = validate(data, "zq.yaml")
    assert len(errors) == 1
    assert errors[0].path == f"dependencies[{n}]"
    assert errors[0].problem.startswith(
        "dependency cycle zq-t02-2021 → zq-t03-2021 → zq-t18-2021 → zq-t19-2021 → zq-t02-2021 (from "
    )


def test_standard_and_cells(zq):
    data = copy.deepcopy(zq)
    data["indicators"][0]["standard"] = {"indicator": "99", "quantity": "电子证照使用率", "unit": "%"}
    data["indicators"][1]["standard"]["indicator"] = 13
    data["indicators"][2]["five_star"]["op"] = None
    data["indicators"][5]["weight_four_star"] = -1
    data["indicators"][6]["name"] = "长" * 300
    got = problems(data)
    assert got["indicators[0].standard.indicator"] == "the standard sd-county-2019 has no indicator '99'"
    assert got["indicators[1].standard.indicator"] == "expected str, got int 13"
    assert got["indicators[2].five_star.op"] == "a numeric value needs an op"
    assert got["indicators[5].weight_four_star"] == "negative weight -1"
    assert got["indicators[6].name"] == "longer than 256 characters"
    data = copy.deepcopy(zq)
    data["standard"] = "sd-town-2019"
    assert problems(data) == {"standard": "no file plans/standards/sd-town-2019.yaml"}


def test_yaml_level_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: a\ncode: b\ntitle: [unclosed\n", encoding="utf-8")
    _, errors = validate_file(bad)
    assert errors[0].file == str(bad) and "invalid YAML" in errors[0].problem
    dup = tmp_path / "dup.yaml"
    dup.write_text("code: a\ncode: b\n", encoding="utf-8")
    _, errors = validate_file(dup)
    assert str(errors[0]) == f"{dup}: (line 2): duplicate key 'code'"
    _, errors = validate_file(tmp_path / "missing.yaml")
    assert errors[0].path == "(file)"
