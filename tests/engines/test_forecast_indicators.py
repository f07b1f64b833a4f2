"""How the forecast carries measured values to the target date (app.engines.forecast_indicators)."""

from datetime import date, timedelta

import numpy as np

from app.engines import forecast_indicators as fi
from app.engines.forecast import _Run, forecast
from app.engines.forecast_state import parse_state

AS_OF = date(2021, 3, 15)


def _state(indicators, milestones=()):
    return {
        "standard": "sd-city-2019",
        "as_of": AS_OF.isoformat(),
        "target_date": "2021-10-31",
        "samples": 4000,
        "seed": 5,
        "milestones": list(milestones),
        "indicators": indicators,
    }


def _monthly(values, start=date(2020, 9, 30)):
    return [{"date": (start + timedelta(days=30 * i)).isoformat(), "value": v} for i, v in enumerate(values)]


def _field(state, number):
    run = _Run(parse_state(state)).run()
    return run, run.models[number].fields[0]


def test_a_step_from_a_delivery_is_not_a_trend():
    """电子证照 1 → 2 in two months is not 6 by October: the jump came with a finished delivery."""
    series = _monthly([40.0, 40.5, 41.0, 80.0, 80.4, 80.9])
    done = {
        "id": "m1",
        "department": "d",
        "due": "2020-12-31",
        "finished": "2020-12-20",
        "delivers": [{"indicator": "13", "value": 80}],
    }
    _, fm = _field(_state({"13": series}, [done]), "13")
    assert abs(fm.drift * 365) < 10  # about 0.5 a month, not 40 in a quarter
    without = _field(_state({"13": series}), "13")[1]
    assert without.drift > 3 * fm.drift  # the same series read as a trend when nothing delivered


def test_a_value_held_at_full_coverage_stays_there():
    state = _state({"1": _monthly([100.0] * 6), "13": _monthly([60.0, 62.0, 61.0, 64.0, 63.0, 66.0])})
    result = forecast(state)
    full = result["indicators"]["1"]
    assert full["p_points"] == {str(full["current_points"]): 1.0}


def test_rates_stay_in_range_and_ranks_are_whole():
    state = _state({"13": _monthly([90.0, 93.0, 96.0, 98.0, 99.0, 99.5]), "17": _monthly([9, 8, 7, 6, 5, 4])})
    run, _ = _field(state, "13")
    horizon = (date(2021, 10, 31) - AS_OF).days
    rate = fi.sample_fields(run.models["13"], horizon, run.z["13"])[None]
    rank = fi.sample_fields(run.models["17"], horizon, run.z["17"])[None]
    assert rate.max() <= 100 and rate.min() >= 0
    assert rank.min() >= 1 and rank.max() <= 16 and np.all(rank == np.round(rank))


def test_readings_with_error_are_smoothed_not_taken_at_face_value():
    """Ten indicators read with an error that swings up and down around a steady level:
    the level carried forward is near the middle, not the last (low) reading."""
    zigzag = [50.0, 56.0, 50.0, 56.0, 50.0, 56.0, 50.0]
    indicators = {
        n: _monthly(zigzag, date(2020, 8, 31))
        for n in ("1", "5", "7", "8", "9", "10", "11", "12", "13", "14")
    }
    _, fm = _field(_state(indicators), "13")
    assert 51 < fm.pre_level < 55
    assert fm.pre_var > 0
    # A single indicator that simply climbs is read as it is.
    _, climb = _field(_state({"13": _monthly([50.0, 51.0, 52.0, 53.0, 54.0, 55.0])}), "13")
    assert climb.pre_level == 55.0 and climb.pre_var == 0
