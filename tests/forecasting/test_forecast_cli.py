"""`flask forecast` (shared/spec/forecast.md) and `flask attainment` on the demo data."""

import json

import pytest

SPEC_KEYS = {
    "current",
    "probabilities",
    "p_target",
    "expected_total",
    "p05",
    "p50",
    "p95",
    "ceiling",
    "untracked",
    "assumptions",
    "milestones",
    "warnings",
}


@pytest.fixture
def demo_runner(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return runner


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_forecast_of_a_plan_has_the_contract_keys(demo_runner):
    args = ["forecast", "--plan", "weihai-1313", "--at", "2021-10-31", "--json"]
    data = _json(demo_runner.invoke(args=args))
    assert SPEC_KEYS <= set(data)
    assert (data["as_of"], data["target_date"], data["target_stars"]) == ("2021-03-15", "2021-10-31", 4)
    assert len(data["probabilities"]) == 6 and sum(data["probabilities"]) == pytest.approx(1)
    assert data["p05"] <= data["p50"] <= data["p95"]
    assert data["p_target"] == pytest.approx(sum(data["probabilities"][4:]))
    assert all(isinstance(a, str) and a for a in data["assumptions"])
    assert demo_runner.invoke(args=args).stdout == json.dumps(data, ensure_ascii=False) + "\n"


def test_a_dumped_state_gives_the_same_forecast(demo_runner, tmp_path):
    args = ["--plan", "zhangqiu-3n", "--samples", "2000"]
    state = _json(demo_runner.invoke(args=["forecast", *args, "--dump-state"]))
    assert state["standard"] == "sd-county-2019" and state["samples"] == 2000
    assert all(m["finished"] is None or m["finished"] <= state["as_of"] for m in state["milestones"])
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    direct = demo_runner.invoke(args=["forecast", *args, "--json"])
    from_file = demo_runner.invoke(args=["forecast", "--state", str(path), "--json"])
    assert direct.exit_code == from_file.exit_code == 0
    assert direct.stdout == from_file.stdout
    # a list of states gives a list of results in the same order
    path.write_text(json.dumps([state, {**state, "seed": 7}]), encoding="utf-8")
    both = _json(demo_runner.invoke(args=["forecast", "--state", str(path), "--json"]))
    assert [r["seed"] for r in both] == [state["seed"], 7]


def test_back_testing_with_an_earlier_clock_sees_nothing_later(demo_runner):
    early = _json(
        demo_runner.invoke(
            args=["forecast", "--plan", "weihai-1313", "--as-of", "2020-12-01", "--dump-state"]
        )
    )
    assert early["as_of"] == "2020-12-01"
    for m in early["milestones"]:
        assert m["finished"] is None or m["finished"] <= "2020-12-01"
    for rows in early["indicators"].values():
        assert all(r["date"] <= "2020-12-01" for r in rows)


def test_bad_states_are_refused_naming_item_and_field(demo_runner, tmp_path):
    state = _json(demo_runner.invoke(args=["forecast", "--plan", "weihai-1313", "--dump-state"]))
    cases = [
        ({**state, "standard": "sd-nowhere"}, "standard"),
        ({**state, "as_of": "2021-02-30"}, "as_of"),
    ]
    broken = json.loads(json.dumps(state))
    broken["milestones"][3]["predecessors"] = [{"id": "no-such", "lag_days": 0}]
    cases.append((broken, "milestones[3]"))
    later = json.loads(json.dumps(state))
    later["milestones"][0]["finished"] = "2022-01-01"
    cases.append((later, "finished"))
    shape = json.loads(json.dumps(state))
    shape["indicators"]["1"] = [{"date": "2021-01-01", "value": {"level": 9}}]
    cases.append((shape, "indicators['1'][0].value"))
    for bad, words in cases:
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
        result = demo_runner.invoke(args=["forecast", "--state", str(path), "--json"])
        assert result.exit_code != 0 and result.stdout == "", words
        assert result.stderr.strip().count("\n") == 0 and words in result.stderr, result.stderr
    path = tmp_path / "cycle.json"
    cycle = json.loads(json.dumps(state))
    first, second = cycle["milestones"][0], cycle["milestones"][1]
    first["predecessors"] = [{"id": second["id"], "lag_days": 0}]
    second["predecessors"] = [{"id": first["id"], "lag_days": 0}]
    path.write_text(json.dumps(cycle), encoding="utf-8")
    result = demo_runner.invoke(args=["forecast", "--state", str(path), "--json"])
    assert result.exit_code != 0 and "cycle" in result.stderr and result.stdout == ""
    path.write_bytes(b"\xff\xfe{")
    result = demo_runner.invoke(args=["forecast", "--state", str(path), "--json"])
    assert result.exit_code != 0 and "UTF-8" in result.stderr
    path.write_text("[" * 100000 + "]" * 100000)
    result = demo_runner.invoke(args=["forecast", "--state", str(path), "--json"])
    assert result.exit_code != 0 and result.stdout == ""


def test_forecast_errors(demo_runner):
    unknown = demo_runner.invoke(args=["forecast", "--plan", "nope", "--at", "2021-10-31", "--json"])
    assert unknown.exit_code != 0 and unknown.stdout == ""
    assert unknown.stderr.strip().count("\n") == 0 and "nope" in unknown.stderr
    bad = demo_runner.invoke(args=["forecast", "--plan", "weihai-1313", "--at", "2021-02-30", "--json"])
    assert bad.exit_code != 0 and "2021-02-30" in bad.stderr
    both = demo_runner.invoke(args=["forecast", "--json"])
    assert both.exit_code != 0 and "--state" in both.stderr


def test_attainment_command(demo_runner):
    result = demo_runner.invoke(args=["attainment", "--plan", "zhangqiu-3n", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["bands"]["4"]["weighted"] is True
    assert 0 <= data["bands"]["4"]["attainment_pct"] <= 100
    assert demo_runner.invoke(args=["attainment", "--plan", "nope", "--json"]).exit_code != 0
