"""The `flask score` command line contract (spec/scoring.md)."""

import json

from app.engines.standards import load_standard, max_points


def _run(app, tmp_path, standard, payload):
    path = tmp_path / "values.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(
        args=["score", "--standard", standard, "--values", str(path), "--json"]
    )


def _full_marks(code):
    return {
        ind["number"]: {"level": 5}
        for ind in load_standard(code)["indicators"]
        if ind["input"] != "deduction"
    }


def test_full_marks_and_empty(app, tmp_path):
    for code in ("sd-city-2019", "sd-county-2019"):
        result = _run(app, tmp_path, code, [_full_marks(code), {}])
        assert result.exit_code == 0, result.output
        full, empty = json.loads(result.stdout)
        assert (full["total"], full["stars"]) == (500, 5)
        assert (empty["total"], empty["stars"]) == (0, 0)
        std = load_standard(code)
        assert set(full["indicators"]) == {ind["number"] for ind in std["indicators"]}
        for ind in std["indicators"]:
            if ind["input"] != "deduction":
                assert full["indicators"][ind["number"]]["points"] == max_points(ind)


def test_one_object_gives_one_result(app, tmp_path):
    result = _run(app, tmp_path, "sd-city-2019", {"6": {"contribution": 60, "departments": 5}})
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["standard"] == "sd-city-2019" and out["indicators"]["6"]["level"] == 4


def test_bad_input_exits_nonzero_with_one_line_and_no_result(app, tmp_path):
    for payload in ({"1": -5}, {"999": 1}, {"2": {"level": 7}}, [{}, {"1": "many"}]):
        result = _run(app, tmp_path, "sd-city-2019", payload)
        assert result.exit_code != 0
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
    assert _run(app, tmp_path, "sd-nowhere", {}).exit_code != 0
