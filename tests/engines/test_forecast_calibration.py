"""Property 6 of the forecast contract through the project's back-test harness
(scripts/backtest_forecast.py): simulated plans, forecast from an earlier as_of,
scored against the simulated outcome. The full run (600 plans per variant) is in
the README; here a smaller one keeps the suite quick."""

import importlib.util
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "scripts" / "backtest_forecast.py"


@pytest.fixture(scope="module")
def harness():
    spec = importlib.util.spec_from_file_location("backtest_forecast", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("variant", ["mixed", "flat"])
def test_forecasts_are_calibrated_on_simulated_plans(harness, variant):
    report = harness.run(plans=200, seed=2021, variant=variant, samples=1000)
    assert report["brier"] <= 0.10, report
    assert report["brier"] < report["base_rate_brier"] / 2, report
    assert report["worst_bin_gap_30plus"] <= 0.10, report["reliability"]


def test_a_forecast_that_ignores_the_data_fails_the_harness(harness, monkeypatch):
    """The harness can fail: always saying the base rate is not calibrated enough."""
    import app.engines.forecast as engine

    real = engine.forecast

    def coin(state, **kwargs):
        result = real(state, **kwargs)
        result["p_target"] = 0.5
        return result

    monkeypatch.setattr(harness, "forecast", coin)
    report = harness.run(plans=60, seed=3, variant="mixed", samples=200)
    assert report["brier"] > 0.10
