"""`flask forecast` and `flask attainment` on the demo data."""

import json

import pytest


@pytest.fixture
def demo_runner(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return runner


def test_forecast_on_demo_data(demo_runner):
    args = ["forecast", "--plan", "weihai-1313", "--at", "2021-10-31", "--json"]
    first = demo_runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["plan"], data["at"], data["as_of"]) == ("weihai-1313", "2021-10-31", "2021-03-15")
    assert len(data["probabilities"]) == 6 and sum(data["probabilities"]) == pytest.approx(1)
    assert data["best_case"]["total"] >= data["expected_total"] >= data["worst_case"]["total"]
    assert 0 <= data["p_target"] <= 1
    assert {"total", "stars"} <= set(data["current"])
    for key in ("top_milestones", "at_risk_indicators"):
        assert isinstance(data[key], list)
    assert demo_runner.invoke(args=args).stdout == first.stdout


def test_forecast_with_samples_and_seed(demo_runner):
    args = ["forecast", "--plan", "zhangqiu-3n", "--at", "2021-12-31", "--json", "--samples", "500"]
    result = demo_runner.invoke(args=[*args, "--seed", "7"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["samples"], data["seed"]) == (500, 7)


def test_forecast_errors(demo_runner):
    unknown = demo_runner.invoke(args=["forecast", "--plan", "nope", "--at", "2021-10-31", "--json"])
    assert unknown.exit_code != 0 and unknown.stdout == ""
    assert unknown.stderr.strip().count("\n") == 0 and "nope" in unknown.stderr
    bad = demo_runner.invoke(args=["forecast", "--plan", "weihai-1313", "--at", "2021-02-30", "--json"])
    assert bad.exit_code != 0 and "2021-02-30" in bad.stderr


def test_attainment_command(demo_runner):
    result = demo_runner.invoke(args=["attainment", "--plan", "zhangqiu-3n", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["bands"]["4"]["weighted"] is True
    assert 0 <= data["bands"]["4"]["attainment_pct"] <= 100
    assert demo_runner.invoke(args=["attainment", "--plan", "nope", "--json"]).exit_code != 0
