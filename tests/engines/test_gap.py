"""Gap to the next star (app/engines/gap.py): exact minimum-cost plans."""

import itertools
import random

import pytest

from app.engines.gap import apply_steps, gap_to_next_star, what_holds_our_band
from app.engines.scoring import score
from app.engines.standards import load_standard

BANDS = [0, 10, 20, 30, 40, 50]


def ind(number, points, star=False, kind="level-only"):
    """A synthetic indicator; points is the five columns (None for '/')."""
    cells = [
        {
            "text": "/" if p is None else f"col {c}, {p}分",
            "points": p,
            "condition": None if p is None or kind == "level-only" else {"op": ">=", "value": c * 10},
        }
        for c, p in enumerate(points, 1)
    ]
    return {"number": str(number), "name": f"i{number}", "star": star, "input": kind, "cells": cells}


def deduction(number):
    cells = [{"text": "每起扣5分", "points": None, "condition": None}] * 5
    return {
        "number": str(number),
        "name": "信息安全",
        "star": False,
        "input": "deduction",
        "deduction_per_incident": 5,
        "cells": cells,
    }


def std(*indicators, bands=BANDS):
    return {
        "code": "test",
        "level": "city",
        "star_bands": [{"stars": s, "min_total": m} for s, m in enumerate(bands)],
        "indicators": list(indicators),
    }


def lv(**levels):
    return {k.lstrip("i"): {"level": v} for k, v in levels.items()}


def picked(result):
    return [(s["number"], s["from_level"], s["to_level"]) for s in result["steps"]]


def reaches(standard, values, result):
    after = score(standard, apply_steps(values, result["steps"]))
    return after["stars"] == result["target_stars"]


def test_optimum_beats_greedy():
    # Need 10. Greedy (most points per step first) takes 1 -> col 1 (+6) then 2 -> col 2 (+10): cost 3.
    s = std(ind(1, [6, 7, 8, 9, 10]), ind(2, [1, 10, 11, 12, 13]))
    result = gap_to_next_star(s, {})
    assert (result["target_stars"], result["points_needed"], result["cost"]) == (1, 10, 2.0)
    assert picked(result) == [("2", 0, 2)]
    assert result["steps"][0]["condition"] == "col 2, 10分" and result["steps"][0]["points_gain"] == 10
    assert reaches(s, {}, result)


def test_ties_go_to_star_then_fewer_then_lower_number():
    s = std(ind(1, [10, 11, 12, 13, 14]), ind(2, [10, 11, 12, 13, 14], star=True))
    assert picked(gap_to_next_star(s, {})) == [("2", 0, 1)]
    s = std(ind(1, [10, 11, 12, 13, 14]), ind(2, [10, 11, 12, 13, 14]))
    assert picked(gap_to_next_star(s, {})) == [("1", 0, 1)]
    # Same cost 2: one indicator two steps vs two indicators one step each -> fewer indicators.
    s = std(ind(1, [5, 10, 11, 12, 13]), ind(2, [5, 6, 7, 8, 9]), ind(3, [5, 6, 7, 8, 9]))
    assert picked(gap_to_next_star(s, {})) == [("1", 0, 2)]
    # ... unless the two carry ★.
    s = std(
        ind(1, [5, 10, 11, 12, 13]), ind(2, [5, 6, 7, 8, 9], star=True), ind(3, [5, 6, 7, 8, 9], star=True)
    )
    assert picked(gap_to_next_star(s, {})) == [("2", 0, 1), ("3", 0, 1)]


def test_cost_overrides():
    s = std(ind(1, [10, 11, 12, 13, 14]), ind(2, [4, 10, 12, 13, 14]))
    assert picked(gap_to_next_star(s, {})) == [("1", 0, 1)]
    result = gap_to_next_star(s, {}, costs={"1": 3, "2": 0.5})
    assert picked(result) == [("2", 0, 2)] and result["cost"] == 1.0 and result["steps"][0]["cost"] == 1.0
    result = gap_to_next_star(s, {}, costs={1: 2.5})  # int keys accepted; 2.5 > 2 steps of 1
    assert picked(result) == [("2", 0, 2)] and result["cost"] == 2.0
    with pytest.raises(ValueError, match="indicator 2"):
        gap_to_next_star(s, {}, costs={"2": 0})


def test_steps_start_from_current_level_and_skip_slash_cells():
    s = std(ind(1, [2, None, 8, None, 20]), ind(2, [1, 2, 3, 4, 5]), bands=[0, 10, 20])
    values = lv(i1=2, i2=1)  # column 2 is '/': earns column 1 (2 points), level 1
    result = gap_to_next_star(s, values)
    assert (result["current_total"], result["points_needed"]) == (3, 7)
    # 1 -> col 5 alone (+18, 4 steps) loses to 1 -> col 3 (+6) and 2 -> col 2 (+1): 3 steps.
    assert picked(result) == [("1", 1, 3), ("2", 1, 2)] and result["cost"] == 3.0
    assert reaches(s, values, result)


def test_deduction_counts_but_is_never_a_step():
    s = std(ind(1, [10, 20, 30, 40, 50]), deduction(2), bands=[0, 10, 20])
    values = {"1": {"level": 1}, "2": 3}  # 10 - 15 -> floored 0; raw -5 needs 15 to reach 10
    result = gap_to_next_star(s, values)
    assert (result["current_total"], result["points_needed"]) == (0, 15)
    assert picked(result) == [("1", 1, 3)]
    assert reaches(s, values, result)
    result = gap_to_next_star(s, {"1": {"level": 5}, "2": 7})  # 50 - 35 = 15: 1 star, 20 unreachable
    assert (result["current_stars"], result["target_stars"], result["reachable"]) == (1, 2, False)
    assert result["steps"] == [] and result["cost"] is None


def test_already_five_stars():
    s = std(ind(1, [10, 20, 30, 40, 50]))
    result = gap_to_next_star(s, lv(i1=5))
    assert (result["current_stars"], result["target_stars"], result["steps"]) == (5, None, [])
    assert result["reachable"] and result["cost"] == 0


def random_standard(rng, n=6):
    indicators = []
    for i in range(1, n + 1):
        points, last = [], 0
        for _ in range(5):
            if rng.random() < 0.25:
                points.append(None)
            else:
                last += rng.randint(1, 5)
                points.append(last)
        if last == 0:
            points[-1] = 3
        indicators.append(ind(i, points, star=rng.random() < 0.4))
    return std(*indicators, bands=[0, 8, 16, 30, 45, 60])


def brute_force(standard, values, costs):
    """Every combination of stay / raise-to-a-higher-point-column; the best by the documented key."""
    current = score(standard, values)
    if current["stars"] == 5:
        return None
    needed = standard["star_bands"][current["stars"] + 1]["min_total"] - current["total"]
    # Per indicator: "stay" (None) or (gain, cost, -star, count, number, to_level); costs doubled
    # so that the halves used below stay whole numbers.
    choices = []
    for i in standard["indicators"]:
        entry, per_step = current["indicators"][i["number"]], round(2 * costs.get(i["number"], 1))
        ups = [
            (
                c["points"] - entry["points"],
                per_step * (k - entry["level"]),
                -i["star"],
                1,
                int(i["number"]),
                k,
            )
            for k, c in enumerate(i["cells"], 1)
            if k > entry["level"] and c["points"] is not None and c["points"] > entry["points"]
        ]
        choices.append([None, *ups])
    best = None
    for combo in itertools.product(*choices):
        steps = [c for c in combo if c is not None]
        if sum(c[0] for c in steps) < needed:
            continue
        key = (sum(c[1] for c in steps), sum(c[2] for c in steps), len(steps), [c[4] for c in steps])
        if best is None or key < best[0]:
            best = (key, [(str(c[4]), c[5]) for c in steps])
    return best


def test_exhaustive_against_brute_force():
    rng = random.Random(20190)
    checked = 0
    for _ in range(40):
        standard = random_standard(rng)
        for _ in range(10):
            values = {str(n): {"level": rng.randint(0, 5)} for n in range(1, 7) if rng.random() < 0.7}
            costs = {str(n): rng.choice([1, 1, 2, 0.5, 1.5, 3]) for n in range(1, 7) if rng.random() < 0.5}
            result = gap_to_next_star(standard, values, costs)
            best = brute_force(standard, values, costs)
            if result["target_stars"] is None:
                assert best is None and result["steps"] == []
                continue
            assert result["reachable"] == (best is not None)
            if best is None:
                continue
            assert 2 * result["cost"] == best[0][0]
            assert [(s["number"], s["to_level"]) for s in result["steps"]] == best[1]
            assert reaches(standard, values, result)
            checked += 1
    assert checked > 200


def test_what_holds_our_band():
    s = std(ind(1, [5, 10, 15, 20, 25], star=True), ind(2, [1, 2, 3, 4, 8]), ind(3, [3, 6, 9, 12, 15]))
    values = lv(i1=3, i2=5, i3=1)  # 15 + 8 + 3 = 26 -> 2 stars (min 20)
    held = what_holds_our_band(s, values)
    assert [(h["number"], h["points"], h["total_without"]) for h in held] == [("1", 15, 11), ("2", 8, 18)]
    assert held[0]["star"] and held[0]["name"] == "i1"
    assert what_holds_our_band(s, lv(i3=1)) == []  # 0 stars: nothing to lose


@pytest.mark.parametrize("code", ["sd-city-2019", "sd-county-2019"])
def test_real_standard_from_empty(code):
    result = gap_to_next_star(code, {})
    assert (result["current_total"], result["current_stars"], result["target_stars"]) == (0, 0, 1)
    assert result["points_needed"] == 50 and result["reachable"]
    assert result["cost"] == sum(s["to_level"] for s in result["steps"])
    assert all(s["from_level"] == 0 and s["name"] != "信息安全" for s in result["steps"])
    assert reaches(code, {}, result)
    gained = sum(s["points_gain"] for s in result["steps"])
    assert gained >= 50 and all(gained - s["points_gain"] < 50 for s in result["steps"])


@pytest.mark.parametrize("code,deduction_number", [("sd-city-2019", "45"), ("sd-county-2019", "48")])
def test_real_standard_from_mid_state(code, deduction_number):
    standard = load_standard(code)
    values = {
        i["number"]: {"level": 2 + int(i["number"]) % 2}
        for i in standard["indicators"]
        if i["input"] != "deduction"
    }
    values[deduction_number] = 1
    before = score(code, values)
    result = gap_to_next_star(code, values)
    assert result["current_total"] == before["total"] and result["target_stars"] == before["stars"] + 1
    assert result["reachable"] and reaches(code, values, result)
    assert deduction_number not in {s["number"] for s in result["steps"]}
    gained = sum(s["points_gain"] for s in result["steps"])
    assert gained >= result["points_needed"] and all(
        gained - s["points_gain"] < result["points_needed"] for s in result["steps"]
    )
    held = what_holds_our_band(code, values)
    assert held == sorted(held, key=lambda h: -h["points"])
