"""The community standard's formulas, the 智慧社区 rule and the coverage arithmetic (pure)."""

import pytest

from app.engines import community as rules
from app.engines.standards import load_standard


def test_formula_items_are_the_ones_the_standard_prints_a_formula_or_threshold_for():
    items = {i["number"]: i for i in load_standard("sd-community-2019")["items"]}
    assert len(items) == 25
    for number in rules.FORMULAS:
        text = items[number]["assessment"]
        assert "计算方法" in text or number in ("9", "14"), number
    # every item with 计算方法 has a formula
    assert {n for n, i in items.items() if "计算方法" in i["assessment"]} <= set(rules.FORMULAS)


def test_fiber_needs_every_household():
    [r] = rules.measure("1", {"fiber_households": 199}, 200)
    assert r["value"] == 99.5 and r["holds"] is False
    [r] = rules.measure("1", {"fiber_households": 200}, 200)
    assert r["value"] == 100 and r["holds"] is True


def test_tv_at_least_half_and_parking_strictly_above_five():
    assert rules.measure("3", {"tv_households": 50}, 100)[0]["holds"] is True
    assert rules.measure("12", {"shared_spaces": 5, "spaces": 100}, 100)[0]["holds"] is False  # 超过 5%
    assert rules.measure("12", {"shared_spaces": 6, "spaces": 100}, 100)[0]["holds"] is True
    assert rules.measure("23", {"police_items": 7, "safety_items": 10}, 100)[0]["holds"] is False  # 超过 70%


def test_lighting_needs_installation_and_saving():
    results = rules.measure(
        "8", {"smart_lights": 60, "lights": 100, "kwh_plain": 1000.0, "kwh_smart": 810.0}, 10
    )
    assert [r["value"] for r in results] == [60, 19]
    assert [r["holds"] for r in results] == [True, False]
    assert "节能率" in rules.claim_error("8", True, results)
    assert rules.claim_error("8", False, results) is None


def test_a_claim_without_the_numbers_is_refused():
    results = rules.measure("11", {"online_shops": 3}, 100)
    assert results[0]["value"] is None
    assert "无法计算" in rules.claim_error("11", True, results)


def test_impossible_numbers_are_named():
    errors = rules.check_numbers("1", {"fiber_households": 300}, 200)
    assert errors and "光纤入户用户数" in errors[0] and "社区内总户数" in errors[0]
    assert rules.check_numbers("8", {"kwh_plain": -1}, 10)


def test_coverage_and_communities_needed():
    assert rules.coverage(3, 10) == 30
    assert rules.coverage(0, 0) is None
    # city: 达到30% (>=) and 超过50% (>)
    assert rules.communities_needed(2, 10, ">=", 30) == 1
    assert rules.communities_needed(3, 10, ">=", 30) == 0
    assert rules.communities_needed(3, 10, ">", 50) == 3  # 5/10 = 50% is not 超过 50%
    assert rules.communities_needed(0, 7, ">=", 50) == 4
    assert rules.communities_needed(0, 5, ">", 100) is None


@pytest.mark.parametrize("met,required,smart", [(25, 25, True), (24, 25, False), (20, 20, True)])
def test_smart_rule(met, required, smart):
    assert rules.is_smart(met, required) is smart
