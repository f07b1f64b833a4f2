"""Gap to the next star: the cheapest set of indicator level-ups that reaches the next band.

Pure Python, no Flask. Costs: raising an indicator from column a to column b costs
(b - a) level steps, each step costing 1 or costs[number]. The plan is exact (a
multiple-choice knapsack by dynamic programme over capped points gained), not greedy.
"""

from fractions import Fraction

from app.engines.scoring import _standard, score
from app.engines.standards import stars_for


def _cost_per_step(costs, number):
    """Exact per-step cost of an indicator (Fraction of the written decimal); must be > 0."""
    raw = 1 if not costs else costs.get(number, costs.get(int(number), 1))
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not raw > 0:
        raise ValueError(f"indicator {number}: cost per step must be a positive number, got {raw!r}")
    return Fraction(str(raw)) if isinstance(raw, float) else Fraction(raw)


def _options(ind, entry, per_step):
    """(to_level, gain, cost) for every higher column that gives more points than now."""
    if ind["input"] == "deduction":
        return []
    level, points = entry["level"], entry["points"]
    return [
        (k, cell["points"] - points, per_step * (k - level))
        for k, cell in enumerate(ind["cells"], start=1)
        if k > level and cell["points"] is not None and cell["points"] > points
    ]


def _plan(std, current, needed, costs):
    """Lexicographically best (cost, -stars, count, -mask) pick list reaching `needed` gain, or None.

    The key is additive per pick, so a DP over the capped gain keeps it exact; the bit mask
    (lower number = higher bit) makes the set comparison favour lower indicator numbers.
    """
    n = len(std["indicators"])
    best = {0: ((Fraction(0), 0, 0, 0), ())}  # capped gain -> (key, picks)
    for i, ind in enumerate(std["indicators"]):
        per_step = _cost_per_step(costs, ind["number"])
        options = _options(ind, current[ind["number"]], per_step)
        nxt = dict(best)
        for gained, (key, picks) in best.items():
            if gained >= needed:
                continue
            for k, gain, cost in options:
                g = min(needed, gained + gain)
                new = (key[0] + cost, key[1] - ind["star"], key[2] + 1, key[3] - (1 << (n - i)))
                if g not in nxt or new < nxt[g][0]:
                    nxt[g] = (new, picks + ((i, k, gain, cost),))
        best = nxt
    return best.get(needed)


def gap_to_next_star(standard, values, costs=None):
    """The minimum-cost set of level-ups reaching the next star band (see module doc)."""
    return gap_to_stars(standard, values, None, costs)


def gap_to_stars(standard, values, stars=None, costs=None):
    """The minimum-cost set of level-ups reaching the band of `stars` (None: the next band)."""
    std = _standard(standard)
    result = score(std, values)
    raw_total = sum(e["points"] for e in result["indicators"].values())  # before the floor at 0
    out = {
        "standard": std["code"],
        "current_total": result["total"],
        "current_stars": result["stars"],
        "target_stars": None,
        "points_needed": 0,
        "cost": 0.0,
        "steps": [],
        "reachable": True,
    }
    higher = [b for b in std["star_bands"] if b["stars"] > result["stars"]]
    if stars is not None:
        higher = [b for b in higher if b["stars"] == stars]
    if not higher:
        return out
    target = higher[0]
    needed = target["min_total"] - raw_total
    out.update(target_stars=target["stars"], points_needed=needed)
    plan = _plan(std, result["indicators"], needed, costs)
    if plan is None:
        return {**out, "cost": None, "reachable": False}
    key, picks = plan
    for i, k, gain, cost in picks:
        ind = std["indicators"][i]
        out["steps"].append(
            {
                "number": ind["number"],
                "name": ind["name"],
                "star": ind["star"],
                "from_level": result["indicators"][ind["number"]]["level"],
                "to_level": k,
                "points_gain": gain,
                "cost": float(cost),
                "condition": ind["cells"][k - 1]["text"],
            }
        )
    out["cost"] = float(key[0])
    return out


def to_values_for_level(level):
    """The minimal input that reaches a column (any indicator but the deduction)."""
    return {"level": level}


def apply_steps(values, steps):
    """A copy of values with each step's indicator set to its target column."""
    return {**values, **{s["number"]: to_values_for_level(s["to_level"]) for s in steps}}


def what_holds_our_band(standard, values):
    """Indicators whose loss alone would drop the total below the current band's minimum."""
    std = _standard(standard)
    result = score(std, values)
    raw_total = sum(e["points"] for e in result["indicators"].values())
    held = [
        {
            "number": ind["number"],
            "name": ind["name"],
            "star": ind["star"],
            "level": entry["level"],
            "points": entry["points"],
            "total_without": max(0, raw_total - entry["points"]),
        }
        for ind in std["indicators"]
        if (entry := result["indicators"][ind["number"]])["points"] > 0
        and stars_for(std, max(0, raw_total - entry["points"])) < result["stars"]
    ]
    return sorted(held, key=lambda h: (-h["points"], int(h["number"])))
