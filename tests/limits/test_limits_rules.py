"""The bounds themselves (app/engines/limits.py): each rule answers None within bounds,
else one Chinese line naming the field and the allowed range."""

import json
from datetime import date

import pytest

from app.engines import limits

START, END = date(2020, 1, 1), date(2022, 12, 31)


@pytest.mark.parametrize("x", [0, 0.5, 99.9, 100])
def test_percent_within(x):
    assert limits.percent_problem(x, "联网率") is None
    assert limits.number_problem(x, "联网率", "%") is None


@pytest.mark.parametrize("x", [-0.1, 100.01, 101, 150, 1e20, float("inf"), float("nan")])
def test_percent_outside(x):
    problem = limits.number_problem(x, "联网率", "%")
    assert problem and problem.startswith("联网率")
    if x == x and abs(x) != float("inf"):
        assert "0 到 100" in problem


def test_other_units_are_finite_and_sane():
    assert limits.number_problem(1e12, "软件收入", "万元") is None
    assert limits.number_problem(-3, "增幅", "‰") is None  # a non-% quantity may fall
    assert "有限" in limits.number_problem(float("inf"), "带宽", "Mbps")
    assert "超出允许范围" in limits.number_problem(1e20, "带宽", "Mbps")
    assert "整数" in limits.number_problem(2.5, "试点数", "项", whole=True)
    assert "应为数字" in limits.number_problem(True, "数值")


def test_counts_and_lags():
    assert limits.count_problem(0, "起数") is None
    assert "不能为负数" in limits.count_problem(-1, "起数")
    assert "整数" in limits.count_problem(1.5, "起数")
    assert limits.lag_problem(0) is None and limits.lag_problem(365) is None
    assert limits.lag_problem(-1) == "间隔天数应在 0 到 365 之间，收到 -1。"
    assert "0 到 365" in limits.lag_problem(366)
    assert "整数" in limits.lag_problem(1.5) and "整数" in limits.lag_problem(True)


def test_due_dates_within_the_plan_and_a_year():
    assert limits.due_bounds(START, END) == (START, date(2023, 12, 31))
    assert limits.due_problem(START, START, END) is None
    assert limits.due_problem(date(2023, 12, 31), START, END) is None
    problem = limits.due_problem(date(9999, 12, 31), START, END)
    assert problem == (
        "完成期限9999年12月31日超出允许范围：应在计划期内或计划结束后一年内（2020年1月1日至2023年12月31日）。"
    )
    assert limits.due_problem(date(2019, 12, 31), START, END)
    assert limits.due_bounds(START, date(2024, 2, 29))[1] == date(2025, 2, 28)


def test_as_of_and_reply_dates():
    today = date(2021, 3, 15)
    assert limits.as_of_problem(today, today) is None
    assert "不能晚于今天" in limits.as_of_problem(date(2021, 3, 16), today)
    assert "不能早于2000年1月1日" in limits.as_of_problem(date(1900, 1, 1), today)
    assert limits.reply_problem(today, today, END) is None
    assert "不能早于今天" in limits.reply_problem(date(2021, 3, 14), today, END)
    assert "2023年12月31日" in limits.reply_problem(date(9999, 12, 31), today, END)
    # A plan already past its end plus margin: today is still a valid reply date.
    assert limits.reply_problem(date(2030, 1, 1), date(2030, 1, 1), END) is None


def test_json_depth_ignores_brackets_in_strings():
    assert limits.json_depth('{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert limits.json_depth('"\\"[[["') == 0
    deep = "[" * 100_000 + "]" * 100_000  # measured without recursion
    assert limits.json_depth(deep) == 100_000
    assert "嵌套过深" in limits.json_depth_problem(deep, "假设条件")
    ok = json.dumps({"a": [[1]]})
    assert limits.json_depth_problem(ok, "假设条件") is None
