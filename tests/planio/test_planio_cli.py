"""`flask plans load|export|show` through the Flask CLI runner."""

import json

from tests.planio.helpers import WEIHAI, ZHANGQIU, read, write_copy


def run(app, *args):
    return app.test_cli_runner().invoke(args=["plans", *map(str, args)])


def test_load_export_show(app):
    result = run(app, "load", WEIHAI, ZHANGQIU)
    assert result.exit_code == 0, result.output
    assert "weihai-1313" in result.stdout and "created" in result.stdout

    result = run(app, "show", "weihai-1313", "--json")
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert set(counts) == {
        "code",
        "nodes",
        "projects",
        "milestones",
        "indicators",
        "departments",
        "dependencies",
        "standard_links",
        "part_links",
        "compound_indicators",
        "declared_deliveries",
    }
    assert (counts["projects"], counts["indicators"]) == (48, 49)

    result = run(app, "export", "zhangqiu-3n", "--json")
    assert result.exit_code == 0, result.output
    assert "区大数据局" in result.stdout  # ensure_ascii=False
    plan = json.loads(result.stdout)
    assert plan["code"] == "zhangqiu-3n" and len(plan["indicators"]) == 45
    for ind in plan["indicators"]:
        for band in ("four_star", "five_star"):
            assert set(ind[band]) == {"target", "value", "op", "part", "and", "due"}
            assert ind[band]["value"] is None or isinstance(ind[band]["value"], int | float)
        for weight in ("weight_four_star", "weight_five_star"):
            assert ind[weight] is None or isinstance(ind[weight], int | float)
        assert ind["name"] and ind["departments"]
        assert "standard" in ind and "parts" in ind
    unmapped = {i["number"] for i in plan["indicators"] if i["standard"] is None}
    # no counterpart in the county standard, or a different quantity (plans/README.md)
    assert unmapped == {"4", "6", "12", "14", "18", "20", "22", "24", "38", "39", "42", "43", "45"}
    bus = next(i for i in plan["indicators"] if i["number"] == "2")
    link = {"indicator": "13", "quantity": "公交电子站牌覆盖率", "unit": "%", "part": "stops"}
    assert bus["standard"] == link
    assert [p["key"] for p in bus["parts"]] == ["realtime", "stops"]
    assert bus["four_star"]["part"] == "realtime"
    assert bus["four_star"]["and"] == [{"part": "stops", "op": ">=", "value": 10}]
    assert {"milestones", "nodes", "dependencies", "departments", "region", "targets"} <= set(plan)
    ms = plan["milestones"][0]
    assert {"lead", "co", "due", "baseline_due", "status", "percent", "targets", "indicators"} <= set(ms)

    again = run(app, "load", ZHANGQIU)
    assert "created 0, updated 0, deleted 0, orphaned 0" in again.stdout


def test_invalid_file_exits_1(app, tmp_path):
    data = read(ZHANGQIU)
    data["departments"][0]["kind"] = "ministry"
    bad = write_copy(data, tmp_path / "bad.yaml")
    result = run(app, "load", WEIHAI, bad)
    assert result.exit_code == 2
    assert f"{bad}: departments[0].kind: 'ministry' is not one of" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert result.stdout == ""
    assert run(app, "show", "weihai-1313", "--json").exit_code == 1


def test_unknown_plan(app):
    result = run(app, "export", "nowhere", "--json")
    assert result.exit_code == 1 and "no plan 'nowhere'" in result.stderr
