"""Forecast engine: probability formula, indicator values, Monte Carlo properties."""

import dataclasses
import math
import time
from datetime import date

import pytest

from app.engines.forecast import (
    DependencyData,
    ForecastInputs,
    IndicatorData,
    MilestoneData,
    forecast,
)
from app.engines.forecast_probability import department_rate, finish_probability
from app.engines.forecast_values import latest, trend_value
from app.engines.scoring import score
from app.engines.standards import load_standard

CITY = "sd-city-2019"
TODAY, TARGET = date(2021, 3, 15), date(2021, 10, 31)
SAMPLES = 4000


def others_at_level_4():
    """Every indicator but 1, 3, 5 at its four-star column: 334 points (a 4-star total is 340)."""
    std = load_standard(CITY)
    skip = {"1", "3", "5", "45"}
    values = {i["number"]: {"level": 4} for i in std["indicators"] if i["number"] not in skip}
    values["45"] = 0
    assert score(CITY, values)["total"] == 334
    return values


def plan(**changes):
    """Indicator 1 trends to 68 (4 points): 338 in all, three stars; any one delivery reaches four."""
    milestones = [
        MilestoneData("E", "前期调研", date(2020, 12, 31), "done", 100, date(2020, 12, 20), None, "d1"),
        MilestoneData("A", "光纤入户一期", date(2021, 6, 30), "in_progress", 40, None, None, "d1"),
        MilestoneData("B", "光纤入户二期", date(2021, 9, 30), "blocked", 0, None, None, "d1"),
        MilestoneData("C", "气象站建设", date(2021, 2, 28), "in_progress", 20, None, None, "d2", 400),
        MilestoneData("D", "监控联网", date(2021, 12, 31), "not_started", 0, None, None, "d3"),
        MilestoneData("F", "其他工作", date(2021, 5, 31), "not_started", 0, None, None, "d3"),
    ]
    indicators = [
        IndicatorData(
            "i1",
            "家庭光纤入户率",
            "1",
            ((date(2020, 6, 30), 55), (date(2020, 12, 31), 60)),
            0,
            100,
            (("B", 100),),
            ">=",
            90,
        ),
        IndicatorData(
            "i3", "气象自动监测站覆盖率", "3", ((date(2020, 12, 31), 50),), 0, 100, (("C", 90),), ">=", 85
        ),
        IndicatorData("i5", "视频监控联网率", "5", (), 0, 100, (("D", 80),), ">=", 80),
        IndicatorData(
            "x", "5G基站数量", None, ((date(2020, 12, 31), 1200),), 0, None, (("A", 1600),), ">=", 1500
        ),
    ]
    base = dict(
        standard=CITY,
        milestones=milestones,
        dependencies=[DependencyData("E", "A"), DependencyData("A", "B")],
        departments={"d1": (8, 2), "d2": (1, 4)},
        indicators=indicators,
        standard_values=others_at_level_4(),
        target_stars=4,
    )
    base.update(changes)
    return ForecastInputs(**base)


def run(inputs, **kw):
    return forecast(inputs, TARGET, TODAY, samples=kw.pop("samples", SAMPLES), **kw)


def mark_done(inputs, mid):
    ms = [
        dataclasses.replace(m, status="done", percent=100, actual_finish=TODAY) if m.id == mid else m
        for m in inputs.milestones
    ]
    return dataclasses.replace(inputs, milestones=ms)


# -- the probability formula -------------------------------------------------


def test_department_rate_is_a_beta_2_1_posterior_mean():
    assert department_rate(0, 0) == pytest.approx(2 / 3)
    assert department_rate(8, 2) == pytest.approx(10 / 13)
    assert 0 < department_rate(0, 50) < department_rate(50, 0) < 1


def p_of(**kw):
    args = dict(
        status="in_progress",
        percent=0,
        remaining_days=60,
        forecast_finish=date(2021, 10, 31),
        target_date=TARGET,
        today=TODAY,
        rate=2 / 3,
    )
    args.update(kw)
    return finish_probability(**args)


def test_finish_probability_formula():
    assert p_of() == pytest.approx(2 / 3)  # zero slack: the department's rate
    assert p_of(percent=50) == pytest.approx(2 / 3 + 1 / 3 * 0.25)
    assert p_of(forecast_finish=date(2021, 9, 30)) == pytest.approx(1 - 1 / 3 * math.exp(-31 / 30))
    assert p_of(forecast_finish=date(2021, 11, 30)) == pytest.approx(2 / 3 * math.exp(-30 / 30))
    assert p_of(status="blocked") == pytest.approx(1 / 3)
    assert p_of(status="done") == 1.0
    assert p_of(target_date=TODAY) == 0.0
    assert p_of(forecast_finish=date(2019, 1, 1)) == 0.99  # clamped
    assert p_of(forecast_finish=date(2030, 1, 1)) == 0.01
    # Monotone: more slack, more progress, a better record -> more likely.
    assert p_of(forecast_finish=date(2021, 8, 1)) > p_of() > p_of(forecast_finish=date(2021, 12, 1))
    assert p_of(percent=80) > p_of(percent=20)
    assert p_of(rate=0.9) > p_of(rate=0.5)


# -- indicator values --------------------------------------------------------


def test_trend_is_a_linear_fit_capped_at_bounds():
    history = ((date(2020, 1, 1), 50), (date(2021, 1, 1), 60))
    assert trend_value(history, date(2022, 1, 1), 0, 100) == round(60 + 10 * 365 / 366, 6)
    assert trend_value(history, date(2030, 1, 1), 0, 100) == 100
    assert trend_value(((date(2020, 1, 1), 60), (date(2021, 1, 1), 10)), date(2023, 1, 1), 0, 100) == 0
    assert trend_value(((date(2020, 1, 1), 42),), date(2022, 1, 1)) == 42  # one value: latest
    assert trend_value((), date(2022, 1, 1)) is None
    structured = ((date(2020, 1, 1), 3), (date(2021, 1, 1), {"level": 4}))
    assert trend_value(structured, date(2022, 1, 1)) == {"level": 4}  # latest is structured
    assert latest(((date(2021, 1, 1), 1), (date(2020, 1, 1), 2))) == 1


# -- forecast properties -----------------------------------------------------


def test_probabilities_sum_to_one_and_cases_bracket_the_expectation():
    result = run(plan())
    assert len(result["probabilities"]) == 6
    assert abs(sum(result["probabilities"]) - 1) < 1e-9
    assert result["worst_case"] == {"total": 338, "stars": 3}
    assert result["best_case"] == {"total": 358, "stars": 4}
    assert result["best_case"]["total"] >= result["expected_total"] >= result["worst_case"]["total"]
    assert 0 < result["p_target"] < 1
    assert result["p_target"] == pytest.approx(sum(result["probabilities"][4:]))


def test_same_inputs_give_identical_output():
    assert run(plan()) == run(plan())
    assert run(plan(), seed=1) == run(plan(), seed=1)


def test_marking_an_open_milestone_done_never_lowers_p_target():
    inputs = plan()
    before = run(inputs)["p_target"]
    for m in inputs.milestones:
        if m.status != "done":
            assert run(mark_done(inputs, m.id))["p_target"] >= before, m.id
    assert run(mark_done(inputs, "B"))["p_target"] == 1.0  # fibre to 100 %: 344 points


def test_dependencies_are_respected_in_samples():
    rows = {r["id"]: r for r in run(plan())["milestones"]}
    assert "E" not in rows  # done milestones are not listed
    assert rows["B"]["p_complete"] <= rows["A"]["p_complete"]
    assert rows["C"]["forecast_finish"] == "2022-01-29"  # overdue: today + 80 % of 400 days


def test_top_milestones_rank_what_moves_p_target():
    result = run(plan())
    top = {r["id"]: r for r in result["top_milestones"]}
    assert set(top) == {"A", "B", "C", "D"}  # F delivers nothing; A holds up B
    for r in top.values():
        assert r["p_target_if_done"] > r["p_target_if_late"]
        assert r["delta"] == pytest.approx(r["p_target_if_done"] - r["p_target_if_late"])
        assert r["p_target_if_late"] <= result["p_target"] <= r["p_target_if_done"]
    assert top["B"]["p_target_if_done"] == 1.0
    deltas = [r["delta"] for r in result["top_milestones"]]
    assert deltas == sorted(deltas, reverse=True)


def test_at_risk_indicators():
    result = run(plan())
    risk = {r["id"]: r for r in result["at_risk_indicators"]}
    # i3: 50 % now (0 points) and its station milestone is overdue with a poor record.
    assert "below_target" in risk["i3"]["reasons"]
    assert risk["i3"]["target_points"] == 6  # the plan's 85 % target
    assert [w["id"] for w in risk["i3"]["weak_milestones"]] == ["C"]
    # i1: the plan targets 90 % (8 points); B is blocked and completes less than half the time.
    assert risk["i1"]["reasons"] == ["below_target", "weak_milestones"]
    assert 4 < risk["i1"]["expected_points"] < 8
    # x is not in the standard: judged by its own 1500 target, which A (likely) delivers.
    assert "x" not in risk
    inputs = plan()
    x = dataclasses.replace(inputs.indicators[3], deliveries=(("D", 1600),))
    result = run(dataclasses.replace(inputs, indicators=[*inputs.indicators[:3], x]))
    risk = {r["id"]: r for r in result["at_risk_indicators"]}
    assert risk["x"]["standard_number"] is None and risk["x"]["expected_points"] is None
    assert risk["x"]["p_reaches_target"] < 0.1
    assert risk["x"]["reasons"] == ["below_target", "weak_milestones"]
    # With everything delivered nothing is at risk.
    done = plan()
    for mid in ("A", "B", "C", "D", "F"):
        done = mark_done(done, mid)
    assert run(done)["at_risk_indicators"] == []


def test_everything_done_is_deterministic_and_matches_the_scoring_engine():
    inputs = plan()
    for mid in ("A", "B", "C", "D", "F"):
        inputs = mark_done(inputs, mid)
    result = run(inputs)
    values = {**others_at_level_4(), "1": 100, "3": 90, "5": 80}
    expected = score(CITY, values)
    assert result["expected_total"] == expected["total"] == 358
    assert result["probabilities"] == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert result["best_case"] == result["worst_case"] == {"total": 358, "stars": expected["stars"]}
    assert result["p_target"] == 1.0
    assert result["top_milestones"] == [] and result["milestones"] == []
    assert run(inputs, seed=7)["probabilities"] == result["probabilities"]


def known_on(history, day):
    """What a back-test caller does: keep only values known on `day`."""
    return tuple((d, v) for d, v in history if d <= day)


def test_back_test_uses_only_what_the_caller_passes():
    late_value = (date(2021, 6, 30), 100)  # entered after TODAY
    inputs = plan()
    i1 = inputs.indicators[0]
    leaked = dataclasses.replace(i1, history=i1.history + (late_value,))
    filtered = dataclasses.replace(i1, history=known_on(leaked.history, TODAY))
    as_known = run(dataclasses.replace(inputs, indicators=[filtered, *inputs.indicators[1:]]))
    assert as_known == run(inputs)
    # Filtering is the caller's job: the engine uses a later value if it is given one.
    assert run(dataclasses.replace(inputs, indicators=[leaked, *inputs.indicators[1:]])) != as_known


def test_unscorable_values_become_warnings():
    inputs = plan()
    bad = dataclasses.replace(inputs.indicators[2], deliveries=(("D", {"level": 9}),))
    result = run(dataclasses.replace(inputs, indicators=[*inputs.indicators[:2], bad, inputs.indicators[3]]))
    assert any("视频监控联网率" in w for w in result["warnings"])
    assert result["best_case"]["total"] == 352


def test_target_date_passed_leaves_only_done_work():
    result = forecast(plan(), TODAY, TODAY, samples=500)
    assert result["expected_total"] == result["worst_case"]["total"] == 338


# -- performance smoke -------------------------------------------------------


def big_plan(n=500):
    std = load_standard(CITY)
    numbers = [i["number"] for i in std["indicators"] if i["input"] == "number"]
    milestones, deps, indicators = [], [], []
    for k in range(n):
        due = date(2021, 1 + k % 12, 28)
        status = ("done", "in_progress", "not_started", "blocked")[k % 4]
        done = status == "done"
        milestones.append(
            MilestoneData(
                k, f"m{k}", due, status, 100 if done else (k * 7) % 90, due if done else None, None, k % 30
            )
        )
        if k % 5:
            deps.append(DependencyData(k - 1, k, k % 3))
    for j in range(100):
        history = ((date(2020, 6, 30), 40 + j % 30), (date(2020, 12, 31), 45 + j % 30))
        deliveries = ((5 * j + 4, 100), (5 * j + 2, 85))
        indicators.append(IndicatorData(j, f"ind{j}", numbers[j % len(numbers)], history, 0, 100, deliveries))
    return ForecastInputs(CITY, milestones, deps, {}, indicators)


def test_performance_smoke():
    inputs = big_plan()
    start = time.perf_counter()
    result = forecast(inputs, TARGET, TODAY, samples=10000)
    elapsed = time.perf_counter() - start
    print(f"\nforecast: 500 milestones x 10,000 samples in {elapsed:.2f} s")
    assert abs(sum(result["probabilities"]) - 1) < 1e-9
    assert elapsed < 60  # a smoke test, not a benchmark (see scripts/bench_forecast.py)
