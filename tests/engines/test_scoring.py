"""Scoring engine against shared/spec/scoring.md."""

import pytest

from app.engines import scoring
from app.engines.scoring import ScoringError, explain, score
from app.engines.standards import load_standard

CITY, COUNTY = "sd-city-2019", "sd-county-2019"

# Measured values that meet every indicator's highest cell (written from the seed, not the YAML).
CITY_FULL = {
    "1": 100,
    "2": 30,
    "3": 100,
    "4": {"coverage": 100, "intact": 100},
    "5": 100,
    "6": {"contribution": 60, "departments": 6},
    "7": 100,
    "8": 70,
    "9": 100,
    "10": 100,
    "11": 100,
    "12": 90,
    "13": 86,
    "14": 51,
    "15": {"wifi": 95, "multimedia": 91, "remote": 100},
    "16": 5,
    "17": 1,
    "18": 100,
    "19": 4,
    "20": 51,
    "21": 51,
    "22": 91,
    "23": 96,
    "24": 100,
    "25": {"air": 91, "water": 92, "noise": 93},
    "26": 91,
    "27": 15,
    "28": 10,
    "29": {"level": 5},
    "30": 100,
    "31": 100,
    "32": 9,
    "33": 11,
    "34": 4,
    "35": 11,
    "36": 21,
    "37": 1.8,
    "38": 10,
    "39": 25,
    "40": {"level": 5},
    "41": {"level": 5},
    "42": {"level": 5},
    "43": {"level": 5},
    "44": 50,
    "45": 0,
    "46": {"national": 3, "provincial": 3},
    "47": {"level": 5},
    "48": 3,
    "49": 51,
}
COUNTY_FULL = {
    "1": 100,
    "2": 30,
    "3": {"coverage": 100, "intact": 100},
    "4": 100,
    "5": {"contribution": 60, "departments": 6},
    "6": 100,
    "7": 70,
    "8": 100,
    "9": 100,
    "10": 100,
    "11": 90,
    "12": 86,
    "13": 51,
    "14": {"wifi": 91, "multimedia": 91, "remote": 91},
    "15": 25,
    "16": 100,
    "17": 51,
    "18": 100,
    "19": 100,
    "20": 10,
    "21": 81,
    "22": 51,
    "23": 91,
    "24": 100,
    "25": 80,
    "26": 100,
    "27": 96,
    "28": 100,
    "29": 95,
    "30": 91,
    "31": 15,
    "32": 10,
    "33": {"level": 5},
    "34": 100,
    "35": 9,
    "36": 11,
    "37": {"municipal": 4, "provincial": 1},
    "38": 11,
    "39": 21,
    "40": 1.8,
    "41": 10,
    "42": 25,
    "43": {"level": 5},
    "44": {"level": 5},
    "45": {"level": 5},
    "46": {"level": 5},
    "47": 50,
    "48": 0,
    "49": {"national": 1, "provincial": 0},
    "50": {"level": 5},
    "51": {"level": 5},
    "52": 81,
}


def points(code, number, value):
    return score(code, {number: value})["indicators"][number]


def values_for_total(code, target):
    """Level inputs whose points sum exactly to target (subset-sum over the cells)."""
    reach = {0: {}}
    for ind in load_standard(code)["indicators"]:
        options = [(c["points"], col) for col, c in enumerate(ind["cells"], 1) if c["points"]]
        step = dict(reach)
        for total, chosen in reach.items():
            for pts, col in options:
                if total + pts <= target and total + pts not in step:
                    step[total + pts] = {**chosen, ind["number"]: {"level": col}}
        reach = step
    return reach[target]


@pytest.mark.parametrize("code,values,count", [(CITY, CITY_FULL, 49), (COUNTY, COUNTY_FULL, 52)])
def test_full_marks_measured(code, values, count):
    result = score(code, values)
    assert (result["standard"], result["total"], result["stars"]) == (code, 500, 5)
    assert len(result["indicators"]) == count
    assert all(r["level"] == 5 for n, r in result["indicators"].items() if n not in ("45", "48"))


@pytest.mark.parametrize("code", [CITY, COUNTY])
def test_full_marks_by_level_and_empty(code):
    std = load_standard(code)
    levels = {i["number"]: {"level": 5} for i in std["indicators"] if i["input"] != "deduction"}
    assert score(code, levels)["total"] == 500
    empty = score(code, {})
    assert (empty["total"], empty["stars"]) == (0, 0)
    assert len(empty["indicators"]) == len(std["indicators"])
    assert all(r == {"points": 0, "level": 0} for r in empty["indicators"].values())


@pytest.mark.parametrize("code", [CITY, COUNTY])
@pytest.mark.parametrize(
    "total,stars",
    [
        (49, 0),
        (50, 1),
        (99, 1),
        (100, 2),
        (209, 2),
        (210, 3),
        (339, 3),
        (340, 4),
        (449, 4),
        (450, 5),
    ],
)
def test_band_edges(code, total, stars):
    result = score(code, values_for_total(code, total))
    assert (result["total"], result["stars"]) == (total, stars)


def test_deduction_and_floor():
    assert score(CITY, {**CITY_FULL, "45": 10})["total"] == 450
    result = score(CITY, {**CITY_FULL, "45": 11})
    assert (result["total"], result["stars"]) == (445, 4)
    assert result["indicators"]["45"] == {"points": -55, "level": 0}
    assert score(COUNTY, {"1": 100, "48": 3})["total"] == 0  # 10 - 15, floored
    assert score(COUNTY, {"1": 100, "48": 1})["total"] == 5


def test_contribution_departments():
    # scoring.md: c = 60 with d = 5 earns the fourth column
    assert points(CITY, "6", {"contribution": 60, "departments": 5}) == {
        "points": 8,
        "level": 4,
    }
    assert points(CITY, "6", {"contribution": 60, "departments": 6}) == {
        "points": 10,
        "level": 5,
    }
    assert points(CITY, "6", {"contribution": 20, "departments": 0}) == {
        "points": 2,
        "level": 1,
    }
    assert points(CITY, "6", {"contribution": 39, "departments": 9}) == {
        "points": 3,
        "level": 2,
    }
    assert points(COUNTY, "5", {"contribution": 50, "departments": 3}) == {
        "points": 8,
        "level": 4,
    }
    assert points(COUNTY, "5", {"contribution": 19, "departments": 9}) == {
        "points": 0,
        "level": 0,
    }


def test_coverage_intact_compares_the_smaller():
    assert points(CITY, "4", {"coverage": 95, "intact": 80}) == {
        "points": 6,
        "level": 3,
    }
    assert points(COUNTY, "3", {"coverage": 59, "intact": 100})["points"] == 0


def test_parts_average_rounded():
    parts = {"air": 31.4, "water": 32.8, "noise": 25.8}  # averages to exactly 30
    assert points(CITY, "25", parts) == {"points": 3, "level": 1}
    assert points(COUNTY, "29", parts) == {"points": 3, "level": 1}
    assert points(CITY, "25", {"air": 30, "water": 30, "noise": 29.99})["points"] == 0
    assert points(CITY, "15", {"wifi": 90, "multimedia": 90, "remote": 90.01})["points"] == 10
    assert points(CITY, "15", 90)["points"] == 8  # 超过90%: a plain mean of 90 is column 4


def test_pilots():
    assert points(CITY, "46", {"national": 0, "provincial": 0, "related": 1})["points"] == 2
    assert points(CITY, "46", {"national": 0, "provincial": 1, "related": 1})["points"] == 4
    assert points(CITY, "46", {"national": 1, "provincial": 2})["points"] == 6
    assert points(CITY, "46", {"national": 3, "provincial": 2})["points"] == 6
    assert points(CITY, "46", {"national": 3, "provincial": 3})["points"] == 8
    assert points(COUNTY, "49", {"national": 0, "provincial": 1})["points"] == 6
    assert points(COUNTY, "49", {"national": 1, "provincial": 0})["points"] == 8
    assert points(COUNTY, "49", {"national": 0, "provincial": 2})["points"] == 8
    assert points(COUNTY, "49", {"national": 0, "provincial": 0, "related": 2})["points"] == 4


def test_parks():
    assert points(COUNTY, "37", {"municipal": 4, "provincial": 0}) == {
        "points": 9,
        "level": 4,
    }
    assert points(COUNTY, "37", {"municipal": 4, "provincial": 1}) == {
        "points": 12,
        "level": 5,
    }
    assert points(COUNTY, "37", {"municipal": 1, "provincial": 0}) == {
        "points": 4,
        "level": 2,
    }


def test_ranks():
    city = {16: 7, 13: 7, 12: 9, 10: 9, 9: 11, 6: 13, 4: 13, 3: 15, 1: 15}
    assert {r: points(CITY, "17", r)["points"] for r in city} == city
    county = {100: 6, 76: 6, 75: 9, 51: 9, 50: 12, 26: 12, 25: 15, 1: 15}
    assert {r: points(COUNTY, "15", r)["points"] for r in county} == county


def test_thresholds_ge_and_gt():
    assert points(CITY, "1", 49.9)["points"] == 0
    assert points(CITY, "1", 50)["points"] == 2
    assert points(CITY, "13", 85)["points"] == 8  # 超过85%
    assert points(CITY, "13", 85.01)["points"] == 10
    assert points(CITY, "33", 10)["points"] == 9  # 达到10% vs 超过10%
    assert points(CITY, "33", 10.5)["points"] == 12
    assert points(CITY, "8", 49)["points"] == 0  # columns 1-2 are "/"


def test_level_input():
    assert points(CITY, "1", {"level": 4}) == {"points": 8, "level": 4}
    assert points(CITY, "8", {"level": 2}) == {"points": 0, "level": 0}
    assert points(CITY, "43", {"level": 1}) == {"points": 0, "level": 0}
    assert points(CITY, "43", {"level": 3}) == {"points": 9, "level": 3}
    assert points(CITY, "6", {"level": 0}) == {"points": 0, "level": 0}
    assert points(COUNTY, "51", {"level": 5}) == {"points": 50, "level": 5}


@pytest.mark.parametrize(
    "code,values,expected",
    [
        (CITY, {"50": 1}, "indicator '50': unknown indicator number"),
        (COUNTY, {"0": 1}, "indicator '0': unknown indicator number"),
        (CITY, {"4": 80}, "indicator 4 "),
        (CITY, {"6": {"contribution": 60}}, "missing ['departments']"),
        (
            CITY,
            {"46": {"national": 1, "provincial": 1, "other": 1}},
            "unexpected ['other']",
        ),
        (CITY, {"1": -5}, "negative percentage"),
        (CITY, {"4": {"coverage": -1, "intact": 50}}, "negative percentage"),
        (CITY, {"1": "80%"}, "must be a number"),
        (CITY, {"1": True}, "must be a number"),
        (CITY, {"40": {"level": 6}}, "level must be a whole number from 0 to 5"),
        (CITY, {"40": {"level": -1}}, "level must be a whole number from 0 to 5"),
        (CITY, {"40": {"level": 2.5}}, "level must be a whole number from 0 to 5"),
        (CITY, {"40": 3}, "descriptive indicator"),
        (CITY, {"1": {"level": 3, "value": 80}}, "alone"),
        (CITY, {"45": {"level": 1}}, "not allowed for the deduction"),
        (CITY, {"45": 1.5}, "whole number"),
        (CITY, {"25": {"air": 50, "water": 50}}, "expected a number or parts"),
        (CITY, {"17": 0}, "rank must be a whole number"),
        (COUNTY, {"15": 120}, "rank position must be a percentage"),
        (COUNTY, {"49": {"national": 1, "provincial": -1}}, "negative value"),
    ],
)
def test_errors(code, values, expected):
    with pytest.raises(ScoringError) as err:
        score(code, values)
    message = str(err.value)
    assert expected in message and "\n" not in message
    number = next(iter(values))
    assert f"indicator {number}" in message or f"indicator '{number}'" in message


def test_bad_values_object_and_standard():
    with pytest.raises(ScoringError, match="values must be an object"):
        score(CITY, [1, 2])
    with pytest.raises(ValueError, match="unknown standard"):
        score("sd-nowhere-2019", {})
    with pytest.raises(ScoringError, match="not a star standard"):
        score("sd-community-2019", {})


def test_null_counts_as_missing():
    assert score(CITY, {"1": None})["indicators"]["1"] == {"points": 0, "level": 0}


def test_explain_next_level():
    result = explain(CITY, {"8": 55, "1": 100})
    fiber = result["indicators"]["1"]
    assert (fiber["points"], fiber["level"], fiber["max_points"], fiber["next"]) == (
        10,
        5,
        10,
        None,
    )
    broadband = result["indicators"]["8"]
    assert broadband["next"] == {
        "level": 4,
        "condition": "200M以上固定宽带用户占比达到60%，6分",
        "points_gain": 3,
    }
    empty = result["indicators"]["12"]
    assert empty["next"] == {
        "level": 5,
        "condition": "城区重点公共区域5G网络覆盖率达到90%，5分",
        "points_gain": 5,
    }
    assert result["indicators"]["45"]["next"] is None
    assert result["total"] == 13 and result["next_stars"] == {
        "stars": 1,
        "min_total": 50,
        "points_needed": 37,
    }
    assert explain(CITY, CITY_FULL)["next_stars"] is None


def test_holds_grammar():
    cond = {
        "any": [
            {"field": "a", "op": ">=", "value": 1},
            {"sum": ["a", "b"], "op": ">", "value": 3},
        ]
    }
    assert scoring.holds(cond, {"a": 0, "b": 4})
    assert not scoring.holds(cond, {"a": 0, "b": 3})
