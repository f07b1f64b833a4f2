"""`flask score` and `flask forecast --state` obey the bounds: a percentage above 100 (or a
number of absurd size) is refused with exit status 2 and one line naming the indicator."""

import json

import pytest

STATE = {
    "standard": "sd-city-2019",
    "as_of": "2021-03-15",
    "target_date": "2021-10-31",
    "target_stars": 4,
    "samples": 50,
    "seed": 1,
    "milestones": [
        {"id": "m1", "due": "2021-06-30", "delivers": [{"indicator": "1", "value": 80}]},
        {"id": "m2", "due": "2021-08-31", "predecessors": [{"id": "m1", "lag_days": 10}]},
    ],
    "indicators": {"1": [{"date": "2021-01-01", "value": 50}]},
}


def _invoke(app, tmp_path, args, payload):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(args=[*args, str(path), "--json"])


def _score(app, tmp_path, payload, standard="sd-city-2019"):
    return _invoke(app, tmp_path, ["score", "--standard", standard, "--values"], payload)


def _refused(result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    line = result.stderr.strip()
    assert "\n" not in line and line.startswith("error: ")
    return line


@pytest.mark.parametrize(
    "values,words",
    [
        ({"1": 150}, "indicator 1 (家庭光纤入户率): value is a percentage above 100: 150"),
        ({"1": 100.5}, "percentage above 100"),
        ({"1": 1e20}, "percentage above 100"),
        ({"4": {"coverage": 101, "intact": 90}}, "indicator 4 (城市重点公共区域高清视频监控覆盖率"),
        ({"15": {"wifi": 90, "multimedia": 120, "remote": 90}}, "multimedia is a percentage above 100"),
        ({"17": 1e20}, "indicator 17"),  # a rank: a whole number, not absurd
    ],
)
def test_score_refuses_out_of_range_values(app, tmp_path, values, words):
    assert words in _refused(_score(app, tmp_path, values))


def test_score_accepts_the_bounds_themselves(app, tmp_path):
    result = _score(app, tmp_path, {"1": 100, "2": 0, "6": {"contribution": 100, "departments": 500}})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["indicators"]["1"]["points"] > 0


def test_score_in_a_list_names_the_item(app, tmp_path):
    line = _refused(_score(app, tmp_path, [{"1": 50}, {"1": 150}]))
    assert line.startswith("error: item 1: indicator 1 (家庭光纤入户率)")


def test_forecast_state_refuses_a_percentage_above_100(app, tmp_path):
    ok = _invoke(app, tmp_path, ["forecast", "--state"], STATE)
    assert ok.exit_code == 0, ok.output
    bad = json.loads(json.dumps(STATE))
    bad["milestones"][0]["delivers"][0]["value"] = 150
    line = _refused(_invoke(app, tmp_path, ["forecast", "--state"], bad))
    assert "milestones[0] (m1).delivers[0].value" in line and "percentage above 100" in line
    bad = json.loads(json.dumps(STATE))
    bad["indicators"]["1"][0]["value"] = 101
    assert "percentage above 100" in _refused(_invoke(app, tmp_path, ["forecast", "--state"], bad))


SCORE = ["score", "--standard", "sd-city-2019", "--values"]


@pytest.mark.parametrize("command", [SCORE, ["forecast", "--state"]])
def test_unusable_files_exit_2_with_one_line(app, tmp_path, command):
    path = tmp_path / "input.json"
    cases = {
        b"\xff\xfe{": "is not UTF-8 text",
        ("[" * 5000 + "]" * 5000).encode(): "nested too deeply (more than 64 levels)",
        ('{"a":' * 3000 + "1" + "}" * 3000).encode(): "nested too deeply",
        b"{": "is not JSON",
        ("9" * 5000).encode(): "is not usable JSON",
        b"": "is not JSON",
    }
    for raw, words in cases.items():
        path.write_bytes(raw)
        result = app.test_cli_runner().invoke(args=[*command, str(path), "--json"])
        line = _refused(result)
        assert words in line and str(path) in line, line
    missing = app.test_cli_runner().invoke(args=[*command, str(tmp_path / "none.json"), "--json"])
    assert "cannot read" in _refused(missing)
