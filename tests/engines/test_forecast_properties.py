"""The forecast contract's properties 1–5 (shared/spec/forecast.md), on generated states."""

from __future__ import annotations

import copy
from datetime import timedelta

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from app.engines.forecast import forecast
from app.engines.forecast_state import dump_state, parse_state
from tests.engines.forecast_states import AS_OF, TARGET, better_or_equal, states

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("FORECAST_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def at_least(p):
    """P(stars >= k) for k = 0..5."""
    return [sum(p[k:]) for k in range(6)]


def assert_not_lower(before, after):
    eps = 1e-9
    pairs = zip(at_least(before["probabilities"]), at_least(after["probabilities"]), strict=True)
    for k, (a, b) in enumerate(pairs):
        assert b >= a - eps, f"P(stars >= {k}) fell from {a} to {b}"
    assert after["expected_total"] >= before["expected_total"] - eps
    assert after["p05"] >= before["p05"]


@SETTINGS
@given(states())
def test_same_state_and_seed_same_output(state):
    assert forecast(copy.deepcopy(state)) == forecast(copy.deepcopy(state))


@SETTINGS
@given(states(), st.integers(0, 400))
def test_on_or_after_the_target_date_everything_sits_on_the_current_score(state, days_after):
    state["target_date"] = (AS_OF - timedelta(days=days_after)).isoformat()
    result = forecast(state)
    cur = result["current"]
    assert result["probabilities"][cur["stars"]] == 1.0
    assert sum(result["probabilities"]) == 1.0
    assert result["p05"] == result["p50"] == result["p95"] == cur["total"]
    assert result["expected_total"] == cur["total"]


@SETTINGS
@given(states(), st.data())
def test_finishing_an_open_milestone_never_lowers_the_forecast(state, data):
    open_ids = [m["id"] for m in state["milestones"] if m["finished"] is None]
    if not open_ids:
        return
    mid = data.draw(st.sampled_from(open_ids))
    before = forecast(copy.deepcopy(state))
    for m in state["milestones"]:
        if m["id"] == mid:
            m["finished"], m["percent"] = AS_OF.isoformat(), 100
    note(f"finished {mid}")
    assert_not_lower(before, forecast(state))


@SETTINGS
@given(states(), st.data())
def test_more_progress_never_lowers_the_forecast(state, data):
    open_ms = [m for m in state["milestones"] if m["finished"] is None and m["percent"] < 100]
    if not open_ms:
        return
    m = data.draw(st.sampled_from(open_ms))
    before = forecast(copy.deepcopy(state))
    m["percent"] = data.draw(st.integers(m["percent"] + 1, 100))
    note(f"{m['id']} percent -> {m['percent']}")
    assert_not_lower(before, forecast(state))


@SETTINGS
@given(states(), st.data())
def test_a_newer_measurement_at_least_as_good_never_lowers_the_forecast(state, data):
    if not state["indicators"]:
        return
    number = data.draw(st.sampled_from(sorted(state["indicators"])))
    latest = state["indicators"][number][-1]["value"]
    value = data.draw(better_or_equal(number, latest))
    before = forecast(copy.deepcopy(state))
    state["indicators"][number].append({"date": AS_OF.isoformat(), "value": value})
    note(f"indicator {number}: {latest} -> {value}")
    after = forecast(state)
    pairs = zip(at_least(before["probabilities"]), at_least(after["probabilities"]), strict=True)
    for k, (a, b) in enumerate(pairs):
        assert b >= a - 1e-9, f"P(stars >= {k}) fell from {a} to {b}"
    assert after["expected_total"] >= before["expected_total"] - 1e-9


@SETTINGS
@given(states())
def test_points_never_come_from_nowhere(state):
    result = forecast(state)
    measured = set(state["indicators"])
    valued = {d["indicator"] for m in state["milestones"] for d in m["delivers"] if d["value"] is not None}
    for number, row in result["indicators"].items():
        if number not in measured and number not in valued:
            assert number in result["untracked"]
            assert row["expected_points"] == 0 and row.get("p_points", {"0": 1.0}) == {"0": 1.0}, number
        else:
            assert number not in result["untracked"]
    # A delivery counts only where its milestone is done by the target date: forcing every
    # open milestone never to finish leaves the measured values alone.
    open_ids = [m["id"] for m in state["milestones"] if m["finished"] is None]
    stuck = forecast(copy.deepcopy(state), late=open_ids)
    no_open = copy.deepcopy(state)
    for m in no_open["milestones"]:
        if m["finished"] is None:
            m["delivers"] = []
    assert stuck["probabilities"] == forecast(no_open)["probabilities"]


def test_a_delivery_counts_only_when_its_milestone_is_done_by_the_target_date():
    state = {
        "standard": "sd-city-2019",
        "as_of": AS_OF.isoformat(),
        "target_date": TARGET.isoformat(),
        "samples": 4000,
        "seed": 1,
        "milestones": [
            {
                "id": "late",
                "department": "d",
                "due": "2022-06-30",
                "percent": 0,
                "delivers": [{"indicator": "14", "value": 60}],
            },
            {
                "id": "soon",
                "department": "d",
                "due": "2021-04-30",
                "percent": 90,
                "delivers": [{"indicator": "13", "value": 90}],
            },
        ],
        "indicators": {
            "14": [{"date": "2021-03-01", "value": 5.0}],
            "13": [{"date": "2021-03-01", "value": 5.0}],
        },
    }
    result = forecast(copy.deepcopy(state))
    rows = {m["id"]: m for m in result["milestones"]}
    assert rows["late"]["p_finish"] == 0.0  # due after the target date, nothing done yet
    assert rows["soon"]["p_finish"] > 0.8
    without = copy.deepcopy(state)
    for m in without["milestones"]:
        m["delivers"] = []
    bare = forecast(without)
    # Never done by the target date: its delivery changes nothing.
    assert result["indicators"]["14"]["p_points"] == bare["indicators"]["14"]["p_points"]
    # Done in most samples: the delivered points appear in at least those samples.
    delivered = result["indicators"]["13"]["deliveries"][0]
    assert delivered["p_done"] == rows["soon"]["p_finish"]
    reached = sum(
        p for pts, p in result["indicators"]["13"]["p_points"].items() if int(pts) >= delivered["points"]
    )
    assert reached >= delivered["p_done"] - 1e-9
    assert result["expected_total"] > bare["expected_total"]


@SETTINGS
@given(states())
def test_a_parsed_state_dumps_back_to_itself(state):
    parsed = parse_state(state)
    assert parse_state(dump_state(parsed)) == parsed
