"""Indicator values at the target date, sampled, and their points (numpy; pure).

Each standard indicator's value at the target date, per sample, is the best (by
points) of
  - its measured value carried forward: the latest measurement, plus a drift and
    a random-walk spread learned from the measurements dated before as_of
    (intervals in which a delivering milestone finished are left out: a step is
    not a trend); the drift is shrunk toward the plan's pooled drift and its own
    uncertainty widens the spread; counts are whole, rates stay in 0–100, ranks
    in their range; a level ({"level": n}), the incident count and a value held
    at its best possible value (100 %, rank 1) that was never seen to leave it are
    kept as they are;
  - the declared value of every milestone that delivers to it, in the samples
    where that milestone is done by the target date.
An indicator with neither a measurement nor a declared delivery scores 0.

Only measurements dated before as_of shape the drift and the spread, and the
horizon counts from as_of: a newer measurement at least as high as the latest
raises the level and changes nothing else, so it never lowers a sample.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from app.engines.scoring import COUNT_FIELDS, SHAPES, score
from app.engines.scoring_arrays import points as points_array

PRIOR_REL_VOL = 0.004  # per sqrt(day), relative to the indicator's threshold scale
VOL_WEIGHT = 2.0  # pseudo degrees of freedom of the pooled volatility
MIN_TAU = 1e-5  # floor of the between-indicator spread of relative drifts (per day)
NOISE_MIN_PAIRS = 8  # consecutive increment pairs needed to read a measurement noise


@dataclass
class FieldModel:
    name: object  # None for a scalar input
    level: float
    drift: float = 0.0  # per day
    drift_sd: float = 0.0
    vol: float = 0.0  # per sqrt(day)
    scale: float = 1.0
    increments: list = field(default_factory=list)  # (delta, days) usable for learning
    lower: float | None = 0.0
    upper: float | None = None
    whole: bool = False
    lower_better: bool = False  # a rank
    pre_level: float | None = None  # the latest measurement dated before as_of
    pre_gap: int = 0  # days from it to as_of
    dated_as_of: bool = False  # the latest measurement is dated as_of
    at_bound_days: int | None = None  # days the value has stayed at its best possible value
    fell_from_bound: bool = False  # the series once left its best possible value
    obs: list = field(default_factory=list)  # (day, value, after_step) measured before as_of
    pre_var: float = 0.0  # variance of the filtered level at the last measurement before as_of
    constant: bool = False  # every usable increment is zero (saturated or fixed)


@dataclass
class IndicatorModel:
    number: str
    spec: dict
    latest: object = None  # the latest measured value (input form), or None
    latest_date: object = None
    kind: str = "none"  # none | level | held (the incident count) | fields
    fields: list = field(default_factory=list)
    deliveries: list = field(default_factory=list)  # (milestone index, value, points)
    unvalued: list = field(default_factory=list)  # milestone indices linked without a value


def value_points(std, number, value, cache):
    """Points of one value of one indicator (the scoring engine, cached by value)."""
    key = (number, json.dumps(value, sort_keys=True))
    if key not in cache:
        cache[key] = score(std, {number: value})["indicators"][number]["points"]
    return cache[key]


def _field_names(spec, value):
    if isinstance(value, dict):
        return sorted(value)
    return [None]


def _bounds(spec, name):
    """(lower, upper, whole) legal range of one field of an indicator's input."""
    if name in COUNT_FIELDS:
        return 0.0, None, True
    if name in ("coverage", "intact", "contribution") or spec["input"] == "parts":
        return 0.0, 100.0, False
    if spec["input"] == "rank":
        return (1.0, 16.0, True) if spec["unit"] != "%" else (0.01, 100.0, False)
    if spec["unit"] == "%":
        return 0.0, 100.0, False
    if spec["unit"] in ("种", "项", "家", "个", "名", "起"):
        return 0.0, None, True
    return 0.0, None, False


def _thresholds(cond, name, out):
    if cond is None:
        return
    for key in ("all", "any"):
        for c in cond.get(key, ()):
            _thresholds(c, name, out)
    if "op" in cond and cond.get("field") == name and "sum" not in cond:
        out.append(float(cond["value"]))
    elif "op" in cond and name is not None and name in cond.get("sum", ()):
        out.append(float(cond["value"]))


def _scale(spec, name):
    """A field's scale: its largest threshold in the standard (so spreads compare across units)."""
    values = []
    key = None if spec["input"] == "parts" else name
    for cell in spec["cells"]:
        _thresholds(cell["condition"], key, values)
    values = [abs(v) for v in values if v]
    if values:
        return max(values)
    return 1.0


def build(state, cache):
    """{number: IndicatorModel} for every indicator of the standard."""
    std = state.standard
    models = {}
    deliveries = {}
    for j, m in enumerate(state.milestones):
        for d in m.delivers:
            deliveries.setdefault(d.indicator, []).append((j, d.value))
    for spec in std["indicators"]:
        number = spec["number"]
        model = IndicatorModel(number, spec)
        for j, value in deliveries.get(number, ()):
            if value is None:
                model.unvalued.append(j)
            else:
                model.deliveries.append((j, value, value_points(std, number, value, cache)))
        series = state.indicators.get(number, ())
        if series:
            model.latest_date, model.latest = series[-1]
            _fit(model, series, state)
        models[number] = model
    _pool(models, state)
    return models


def _step_days(model, state):
    """Finish dates of done milestones that deliver a value to this indicator."""
    return sorted(
        state.milestones[j].finished for j, _, _ in model.deliveries if state.milestones[j].finished
    )


def _fit(model, series, state):
    spec, latest = model.spec, model.latest
    if isinstance(latest, dict) and "level" in latest:
        model.kind = "level"
        return
    if spec["input"] == "deduction":
        model.kind = "held"
        return
    model.kind = "fields"
    names = _field_names(spec, latest)
    steps = _step_days(model, state)
    same = [(d, v) for d, v in series if _field_names(spec, v) == names and d < state.as_of]
    last_by_day = {}
    for d, v in same:
        last_by_day[d] = v  # the last given among equal dates
    days = sorted(last_by_day)
    for name in names:
        level = float(latest[name] if name is not None else latest)
        lower, upper, whole = _bounds(spec, name)
        fm = FieldModel(name, level, lower=lower, upper=upper, whole=whole)
        fm.lower_better = spec["input"] == "rank"
        fm.scale = _scale(spec, name)
        fm.dated_as_of = model.latest_date == state.as_of
        values = [float(last_by_day[d][name] if name is not None else last_by_day[d]) for d in days]
        after_step = [i > 0 and any(days[i - 1] < st <= d for st in steps) for i, d in enumerate(days)]
        fm.obs = list(zip(days, values, after_step, strict=True))
        if days:
            fm.pre_level, fm.pre_gap = values[-1], (state.as_of - days[-1]).days
        good = fm.lower if fm.lower_better else fm.upper
        for i in range(1, len(days)):
            if after_step[i]:
                continue  # a delivery landed in between: a step, not growth
            xa, xb = values[i - 1], values[i]
            if good is not None and xa == good != xb:
                fm.fell_from_bound = True
            if good is not None and xa == xb == good:
                continue  # held at the bound: says nothing about how it moves
            fm.increments.append((xb - xa, (days[i] - days[i - 1]).days))
        fm.constant = len(fm.increments) >= 2 and all(d == 0 for d, _ in fm.increments)
        if good is not None and level == good:
            # At its best possible value: how long it has stayed there (measurements before
            # as_of, then the latest), so the spread does not pull a saturated value down.
            held = len(values) - next((i + 1 for i in reversed(range(len(values))) if values[i] != good), 0)
            fm.at_bound_days = (state.as_of - days[-held]).days if held else 0
        model.fields.append(fm)


def _noise(fields) -> float:
    """Pooled measurement-noise variance, relative to the fields' scales squared.

    A value read with error makes consecutive increments move against each other
    (their covariance is minus the noise variance); a pure random walk does not.
    Estimated from every pair of consecutive usable increments of the plan."""
    total, pairs = 0.0, 0
    for fm in fields:
        inc = fm.increments
        if len(inc) < 3 or fm.constant:
            continue
        mu = sum(x for x, _ in inc) / sum(d for _, d in inc)
        res = [(x - mu * d) / fm.scale for x, d in inc]
        for a, b in zip(res, res[1:], strict=False):
            total -= a * b
            pairs += 1
    return max(0.0, total / pairs) if pairs >= NOISE_MIN_PAIRS else 0.0


def _filter(fm, noise2):
    """The level at the last measurement before as_of, read through the measurement noise
    (a Kalman filter on a local level with drift), and its variance. Without noise it is
    the last measurement itself; a delivery step restarts the filter."""
    if not fm.obs:
        return
    r = noise2 * fm.scale**2
    x, p = fm.obs[0][1], r
    for (d0, _, _), (d1, y, step) in zip(fm.obs, fm.obs[1:], strict=False):
        gap = (d1 - d0).days
        x, p = x + fm.drift * gap, p + fm.vol**2 * gap
        if step:
            x, p = y, r
            continue
        k = p / (p + r) if p + r > 0 else 1.0
        x, p = x + k * (y - x), (1 - k) * p
    fm.pre_level, fm.pre_var = x, p


def _pool(models, state):
    """Volatility, drift and measurement noise per field, shrunk toward the plan's pooled values."""
    fields = [fm for m in models.values() if m.kind == "fields" for fm in m.fields]
    noise2 = _noise(fields)
    rel_vols, rel_drifts = [], []
    for fm in fields:
        inc = fm.increments
        if not inc or fm.constant:
            continue
        span = sum(d for _, d in inc)
        fm.raw_drift = sum(x for x, _ in inc) / span
        if len(inc) >= 2:
            r = noise2 * fm.scale**2  # each increment carries twice the reading error
            ss = sum(max(0.0, (x - fm.raw_drift * d) ** 2 - 2 * r) / d for x, d in inc)
            fm.raw_vol2 = ss / (len(inc) - 1)
            rel_vols.append((fm.raw_vol2 / fm.scale**2, len(inc) - 1))
    if rel_vols:
        pooled_rel_vol2 = (sum(v * k for v, k in rel_vols) + VOL_WEIGHT * PRIOR_REL_VOL**2) / (
            sum(k for _, k in rel_vols) + VOL_WEIGHT
        )
    else:
        pooled_rel_vol2 = PRIOR_REL_VOL**2
    for fm in fields:
        if fm.constant:
            fm.vol = 0.0
            continue
        prior = pooled_rel_vol2 * fm.scale**2
        k = len(fm.increments) - 1 if len(fm.increments) >= 2 else 0
        own = getattr(fm, "raw_vol2", 0.0)
        fm.vol = math.sqrt((own * k + prior * VOL_WEIGHT) / (k + VOL_WEIGHT))
        if fm.increments and not fm.constant:
            span = sum(d for _, d in fm.increments)
            se = fm.vol / math.sqrt(span) / fm.scale  # standard error of the relative drift
            rel_drifts.append((fm.raw_drift / fm.scale, se, fm))
    # Random-effects pooling of relative drifts (DerSimonian–Laird).
    if rel_drifts:
        w = [1 / se**2 for _, se, _ in rel_drifts]
        mean = sum(wi * r for wi, (r, _, _) in zip(w, rel_drifts, strict=True)) / sum(w)
        q = sum(wi * (r - mean) ** 2 for wi, (r, _, _) in zip(w, rel_drifts, strict=True))
        c = sum(w) - sum(wi * wi for wi in w) / sum(w)
        tau2 = max(MIN_TAU**2, (q - (len(w) - 1)) / c if c > 0 else 0.0)
        mean_var = 1 / sum(1 / (se**2 + tau2) for _, se, _ in rel_drifts)
        mean = sum(r / (se**2 + tau2) for r, se, _ in rel_drifts) * mean_var
    else:
        mean, tau2, mean_var = 0.0, MIN_TAU**2, 0.0
    for fm in fields:
        if fm.constant:
            continue  # a quantity that has not moved: no drift, its own (zero) spread
        if fm.increments:
            span = sum(d for _, d in fm.increments)
            se2 = (fm.vol / fm.scale) ** 2 / span
            post_var = 1 / (1 / se2 + 1 / (tau2 + mean_var))
            post = post_var * (fm.raw_drift / fm.scale / se2 + mean / (tau2 + mean_var))
        else:
            post, post_var = mean, tau2 + mean_var
        fm.drift = post * fm.scale
        fm.drift_sd = math.sqrt(post_var) * fm.scale
    for fm in fields:
        if not fm.constant and fm.at_bound_days is None:
            _filter(fm, noise2)


def start_level(fm) -> float:
    """The level on as_of.

    The latest measurement before as_of carried forward by the drift; a measurement
    dated as_of replaces it when it is at least as good; a value held at its best
    possible value (100%, rank 1) is read as having kept climbing by the drift while
    there (it cannot be seen above the bound). So a newer value at least as good as
    the latest never lowers the start, and the spread, learned before as_of, stays.
    """
    best = min if fm.lower_better else max
    carried = None
    if fm.pre_level is not None and fm.pre_gap > 0:
        carried = fm.pre_level + fm.drift * fm.pre_gap
    if fm.at_bound_days is not None:
        push = fm.drift * fm.at_bound_days
        base = fm.level + (min(0.0, push) if fm.lower_better else max(0.0, push))
    elif carried is not None and not fm.dated_as_of:
        return carried
    else:
        base = fm.level
    return base if carried is None else best(base, carried)


def sample_fields(model, horizon, z):
    """{field: sampled values} at the target date; z: (samples, fields) standard normals."""
    out = {}
    for k, fm in enumerate(model.fields):
        if fm.at_bound_days is not None and not fm.fell_from_bound:
            # At its best possible value (100 %, rank 1) and never seen to leave it: it stays.
            out[fm.name] = np.full(len(z), fm.level)
            continue
        span = horizon + fm.pre_gap  # the level on as_of is itself carried forward
        sd = math.sqrt(fm.vol**2 * span + (fm.drift_sd * span) ** 2 + fm.pre_var)
        x = start_level(fm) + fm.drift * horizon + sd * z[:, k]
        if fm.lower is not None or fm.upper is not None:
            x = np.clip(x, fm.lower, fm.upper)
        if fm.whole:
            x = np.floor(x + 0.5)
            if fm.lower is not None:
                x = np.maximum(x, fm.lower)
        out[fm.name] = x
    return out


def measured_points(model, std, horizon, z, n, cache):
    """Points of the measured value carried forward, per sample (int32)."""
    if model.kind == "none":
        return np.zeros(n, dtype=np.int32)
    if model.kind in ("level", "held") or horizon <= 0:
        return np.full(n, value_points(std, model.number, model.latest, cache), dtype=np.int32)
    fields = sample_fields(model, horizon, z)
    for name, default in SHAPES.get(model.spec["input"], ((), {}))[1].items():
        fields.setdefault(name, np.full(n, float(default)))
    return points_array(model.spec, fields)
