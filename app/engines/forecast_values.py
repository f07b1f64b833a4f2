"""Indicator values at the target date, and their points, for the forecast (pure).

An indicator's value in one Monte Carlo sample is the best of
  - its fallback: the linear trend through its approved numeric history
    (least squares over the dates, extrapolated to the target date, rounded to
    6 decimals and capped at the natural bounds), or the latest value when there
    are fewer than two dated numbers or the latest value is structured;
  - the value each delivering milestone states, when that milestone completes.
"Best" is by points, so completing a milestone never lowers an indicator.
Points come from app.engines.scoring (one call per distinct value, cached), so
no threshold is repeated here. An indicator the standard has no number for
scores 1 when it meets its plan target (op, value) and 0 otherwise; it adds
nothing to the total and only feeds the at-risk list.

History is used as given: dropping values entered after `today` (for a
back-test) is the caller's job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from app.engines.scoring import OPS, ScoringError, score

ROUND = 6
WHOLE_INPUTS = ("deduction",)


@dataclass(frozen=True)
class IndicatorData:
    id: object
    name: str
    standard_number: str | None = None  # the indicator's number in the standard, or None
    history: tuple = ()  # ((date, value), ...) approved values, filtered by the caller
    lower: float | None = 0  # natural bounds of the trend (e.g. 0 and 100 for a %)
    upper: float | None = None
    deliveries: tuple = ()  # ((milestone_id, value or None), ...): value a milestone delivers
    target_op: str | None = None  # the plan's target for the date (four-star), if numeric
    target_value: float | None = None


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def latest(history):
    """The value with the latest date (the last given among equal dates), or None."""
    best = None
    for i, (day, value) in enumerate(history):
        if best is None or (day, i) >= best[0]:
            best = ((day, i), value)
    return None if best is None else best[1]


def trend_value(history, target_date, lower=0, upper=None):
    """The fallback value at target_date (see the module docstring)."""
    last = latest(history)
    points = [(d.toordinal(), float(v)) for d, v in history if _is_number(v)]
    if not _is_number(last) or len({x for x, _ in points}) < 2:
        return last
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    value = round(my + slope * (target_date.toordinal() - mx), ROUND)
    if lower is not None:
        value = max(lower, value)
    if upper is not None:
        value = min(upper, value)
    return value


class Scorer:
    """Points of one indicator for one value, via the scoring engine, cached."""

    def __init__(self, std):
        self.std = std
        self.by_number = {ind["number"]: ind for ind in std["indicators"]}
        self.cache = {}

    def points(self, number, value):
        key = (number, json.dumps(value, sort_keys=True, default=str))
        if key not in self.cache:
            self.cache[key] = score(self.std, {number: value})["indicators"][number]["points"]
        return self.cache[key]

    def whole(self, number):
        ind = self.by_number[number]
        return ind["input"] in WHOLE_INPUTS or (ind["input"] == "rank" and ind["unit"] != "%")

    def target_points(self, ind):
        """Points the plan's target earns, else those of the four-star column."""
        number = ind.standard_number
        if self.by_number[number]["input"] == "deduction":
            return 0
        if ind.target_value is not None:
            try:
                return self.points(number, ind.target_value)
            except ScoringError:
                pass
        return self.points(number, {"level": 4})


class IndicatorModel:
    """Per-sample points of one plan indicator from the milestone completion columns."""

    def __init__(self, ind, fallback, fallback_points, deliveries, target_points):
        self.ind = ind
        self.fallback = fallback
        self.fallback_points = fallback_points
        self.deliveries = deliveries  # [(milestone column, points)] that beat the fallback
        self.target_points = target_points

    @property
    def scored(self):
        return self.ind.standard_number is not None

    def points(self, column, n):
        """column(j) -> bool array of length n: whether milestone j completes."""
        out = np.full(n, self.fallback_points, dtype=np.int32)
        for j, pts in self.deliveries:
            np.maximum(out, np.where(column(j), pts, self.fallback_points), out=out)
        return out


def _meets(ind, value):
    if ind.target_op is None or ind.target_value is None or not _is_number(value):
        return 0
    return int(OPS[ind.target_op](value, ind.target_value))


def build_models(indicators, scorer, target_date, column_of, warnings):
    """IndicatorModels for the plan's indicators; unusable values become warnings."""
    models = []
    for ind in indicators:
        number = ind.standard_number
        if number is not None and number not in scorer.by_number:
            warnings.append(f"指标 {ind.name}: 标准中没有第 {number} 项，已忽略")
            continue
        fallback = trend_value(ind.history, target_date, ind.lower, ind.upper)
        if number is not None and _is_number(fallback) and scorer.whole(number):
            fallback = round(fallback)

        def value_points(value, what, number=number, ind=ind):
            if number is None:
                return _meets(ind, value)
            try:
                return scorer.points(number, value)
            except ScoringError as exc:
                warnings.append(f"指标 {ind.name}: {what} 无法计分（{exc}），已忽略")
                return None

        base = value_points(fallback, "当前值/趋势值") if fallback is not None else 0
        base = 0 if base is None else base
        deliveries = []
        for mid, value in ind.deliveries:
            if value is None:
                continue
            pts = value_points(value, f"里程碑 {mid} 交付值")
            if pts is not None and pts > base:
                deliveries.append((column_of[mid], pts))
        if number is not None:
            target = scorer.target_points(ind)
        else:  # 1 = meets the plan's target; None: nothing to compare with
            target = 1 if ind.target_op is not None and ind.target_value is not None else None
        models.append(IndicatorModel(ind, fallback, base, deliveries, target))
    return models
