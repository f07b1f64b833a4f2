"""Hypothesis strategies for forecast states (shared/spec/forecast.md)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

AS_OF = date(2021, 3, 15)
TARGET = date(2021, 10, 31)
DEPARTMENTS = ["d-police", "d-transport", "d-data"]

# Standard numbers of a few input kinds, with a strategy for a valid value of each.
CITY_VALUES = {
    "1": st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),  # 家庭光纤入户率 %
    "2": st.floats(0, 300, allow_nan=False).map(lambda x: round(x, 1)),  # Mbit/s
    "13": st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
    "14": st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 1)),
    "16": st.integers(0, 8),  # 种
    "17": st.integers(1, 16),  # rank, lower is better
    "6": st.fixed_dictionaries({"contribution": st.integers(0, 100), "departments": st.integers(0, 9)}),
    "25": st.fixed_dictionaries(
        {"air": st.integers(0, 100), "water": st.integers(0, 100), "noise": st.integers(0, 100)}
    ),
    "40": st.integers(0, 5).map(lambda n: {"level": n}),
}
LOWER_BETTER = {"17"}


def _day(lo: date, hi: date):
    return st.integers(0, (hi - lo).days).map(lambda d: lo + timedelta(days=d))


@st.composite
def milestones(draw, n_max=7):
    n = draw(st.integers(1, n_max))
    out = []
    for i in range(n):
        due = draw(_day(date(2020, 6, 1), date(2022, 6, 30)))
        start = draw(st.one_of(st.none(), _day(due - timedelta(days=365), due)))
        finished = None
        if draw(st.booleans()):
            hi = min(AS_OF, due + timedelta(days=120))
            lo = min(hi, (start or due - timedelta(days=200)) - timedelta(days=30))
            finished = draw(_day(lo, hi))
        preds = []
        if i:
            for j in draw(st.lists(st.integers(0, i - 1), max_size=2, unique=True)):
                preds.append({"id": f"m{j}", "lag_days": draw(st.sampled_from([0, 0, 7, 30]))})
        delivers = []
        for number in draw(st.lists(st.sampled_from(sorted(CITY_VALUES)), max_size=2, unique=True)):
            value = draw(st.one_of(CITY_VALUES[number], st.none())) if draw(st.booleans()) else None
            value = draw(CITY_VALUES[number]) if value is None and draw(st.booleans()) else value
            delivers.append({"indicator": number, "value": value})
        out.append(
            {
                "id": f"m{i}",
                "department": draw(st.sampled_from(DEPARTMENTS)),
                "start": start.isoformat() if start else None,
                "due": due.isoformat(),
                "finished": finished.isoformat() if finished else None,
                "percent": 100 if finished else draw(st.sampled_from([0, 10, 30, 50, 70, 90])),
                "predecessors": preds,
                "delivers": delivers,
            }
        )
    return out


@st.composite
def indicator_series(draw):
    out = {}
    for number in draw(st.lists(st.sampled_from(sorted(CITY_VALUES)), max_size=6, unique=True)):
        days = sorted(set(draw(st.lists(_day(date(2020, 3, 1), AS_OF), min_size=1, max_size=4))))
        out[number] = [{"date": d.isoformat(), "value": draw(CITY_VALUES[number])} for d in days]
    return out


@st.composite
def states(draw, samples=300):
    return {
        "standard": "sd-city-2019",
        "as_of": AS_OF.isoformat(),
        "target_date": TARGET.isoformat(),
        "target_stars": draw(st.integers(1, 5)),
        "samples": samples,
        "seed": draw(st.integers(0, 2**31)),
        "milestones": draw(milestones()),
        "indicators": draw(indicator_series()),
    }


def better_or_equal(number, latest):
    """A strategy for a value at least as good as `latest` (per field; lower ranks are better)."""
    if isinstance(latest, dict) and "level" in latest:
        return st.integers(latest["level"], 5).map(lambda n: {"level": n})
    if isinstance(latest, dict):
        return st.fixed_dictionaries(
            {
                k: st.integers(int(v), int(v) + 20)
                .map(lambda x, k=k: min(x, 100) if k != "departments" else x)
                .filter(lambda x, v=v: x >= v)
                for k, v in latest.items()
            }
        )
    if number in LOWER_BETTER:
        return st.integers(1, int(latest))
    top = 100 if number in ("1", "13", "14") else latest + 50
    return st.floats(latest, max(latest, top), allow_nan=False)
