"""Score a values object against a star standard, as shared/spec/scoring.md says.

values maps an indicator number (string) to its input; a missing (or null)
indicator scores 0. Bad input raises ScoringError with one line naming the
indicator and the problem. Pure Python: no Flask.
"""

import math
import operator

from app.engines import limits
from app.engines.standards import STAR_LEVELS, load_standard, max_points, stars_for

OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
# Keys of each compound input: (required, optional with default).
SHAPES = {
    "coverage_intact": (("coverage", "intact"), {}),
    "contribution_departments": (("contribution", "departments"), {}),
    "pilots": (("national", "provincial"), {"related": 0}),
    "parks": (("municipal", "provincial"), {}),
}
COUNT_FIELDS = {"departments", "national", "provincial", "related", "municipal"}
PARTS_DECIMALS = 6


class ScoringError(ValueError):
    """A bad values object; the message is one line naming the indicator."""


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class _Reader:
    """Turns one raw input into ("level", n) or ("value", scalar or dict)."""

    def __init__(self, ind):
        self.ind = ind
        self.kind = ind["input"]

    def fail(self, problem):
        raise ScoringError(f"indicator {self.ind['number']} ({self.ind['name']}): {problem}")

    def number(self, x, what, whole=False):
        if not _is_number(x):
            self.fail(f"{what} must be a number, got {x!r}")
        if x < 0:
            kind = "percentage" if self.ind["unit"] == "%" and not whole else "value"
            self.fail(f"{what} is a negative {kind}: {x}")
        if whole and x != int(x):
            self.fail(f"{what} must be a whole number, got {x}")
        if self.ind.get("unit") == "%" and self.kind != "rank" and not whole and x > limits.PERCENT_MAX:
            self.fail(f"{what} is a percentage above {limits.PERCENT_MAX}: {x}")
        if x > limits.NUMBER_MAX:
            self.fail(f"{what} is too large (at most {limits.NUMBER_MAX:g}): {x}")
        return x

    def read(self, raw):
        if isinstance(raw, dict) and "level" in raw:
            return self.level(raw)
        if self.kind == "level-only":
            self.fail(f'descriptive indicator: expected {{"level": 0-5}}, got {raw!r}')
        if self.kind == "deduction":
            return "value", self.number(raw, "incident count", whole=True)
        if self.kind == "parts" and isinstance(raw, dict):
            return "value", self.parts(raw)
        if self.kind in SHAPES:
            return "value", self.compound(raw)
        value = self.number(raw, "value")
        if self.kind == "rank":
            self.check_rank(value)
        return "value", value

    def level(self, raw):
        if self.kind == "deduction":
            self.fail("a level is not allowed for the deduction; give the number of incidents")
        if set(raw) != {"level"}:
            self.fail(f'a level input is {{"level": n}} alone, got keys {sorted(raw)}')
        n = raw["level"]
        if not _is_number(n) or n != int(n) or not 0 <= n <= 5:
            self.fail(f"level must be a whole number from 0 to 5, got {n!r}")
        return "level", int(n)

    def parts(self, raw):
        names = self.ind["parts"]
        if set(raw) != set(names):
            self.fail(f"expected a number or parts {names}, got keys {sorted(raw)}")
        mean = sum(self.number(raw[p], p) for p in names) / len(names)
        return round(mean, PARTS_DECIMALS)

    def compound(self, raw):
        required, optional = SHAPES[self.kind]
        if not isinstance(raw, dict):
            self.fail(f"expected an object with keys {list(required)}, got {raw!r}")
        unknown = set(raw) - set(required) - set(optional)
        missing = [k for k in required if k not in raw]
        if unknown or missing:
            found = [f"missing {missing}"] * bool(missing) + [f"unexpected {sorted(unknown)}"] * bool(unknown)
            self.fail(f"expected keys {list(required) + list(optional)}; {', '.join(found)}")
        merged = {**optional, **raw}
        return {k: self.number(v, k, whole=k in COUNT_FIELDS) for k, v in merged.items()}

    def check_rank(self, value):
        if self.ind["unit"] == "%":
            if not 0 < value <= 100:
                self.fail(f"rank position must be a percentage in (0, 100], got {value}")
        elif value < 1 or value != int(value):
            self.fail(f"rank must be a whole number from 1 (best), got {value}")


def holds(cond, value):
    """Whether a cell condition (see plans/standards/README.md) holds for a value."""
    if "all" in cond:
        return all(holds(c, value) for c in cond["all"])
    if "any" in cond:
        return any(holds(c, value) for c in cond["any"])
    if "field" in cond:
        x = value[cond["field"]]
    elif "sum" in cond:
        x = sum(value[f] for f in cond["sum"])
    else:
        x = value
    return OPS[cond["op"]](x, cond["value"])


def _score_one(ind, raw):
    """(points, level) of one indicator; level is the column that earned the points."""
    if raw is None:
        return 0, 0
    how, x = _Reader(ind).read(raw)
    if ind["input"] == "deduction":
        return -ind["deduction_per_incident"] * int(x), 0
    cells = ind["cells"]
    if how == "level":
        columns = range(x, 0, -1)  # that column, else the nearest lower one with points
    else:
        columns = [
            c for c in range(5, 0, -1) if cells[c - 1]["condition"] and holds(cells[c - 1]["condition"], x)
        ]
    for column in columns:
        if cells[column - 1]["points"] is not None:
            return cells[column - 1]["points"], column
    return 0, 0


def _standard(standard):
    std = load_standard(standard) if isinstance(standard, str) else standard
    if std.get("level") not in STAR_LEVELS:
        raise ScoringError(f"standard {std.get('code')!r} is not a star standard")
    return std


def _check_keys(std, values):
    if not isinstance(values, dict):
        raise ScoringError(
            f"values must be an object mapping indicator numbers to inputs, got {type(values).__name__}"
        )
    known = {ind["number"] for ind in std["indicators"]}
    for key in values:
        if key not in known:
            raise ScoringError(f"indicator {key!r}: unknown indicator number in {std['code']}")


def score(standard, values):
    """Score values against a standard (code or loaded dict); see scoring.md for the shape."""
    std = _standard(standard)
    _check_keys(std, values)
    indicators = {}
    for ind in std["indicators"]:
        points, level = _score_one(ind, values.get(ind["number"]))
        indicators[ind["number"]] = {"points": points, "level": level}
    total = max(0, sum(r["points"] for r in indicators.values()))
    return {
        "standard": std["code"],
        "total": total,
        "stars": stars_for(std, total),
        "indicators": indicators,
    }


def _next_cell(ind, level, points):
    """The next column above `level` that gives points, as an explanation dict, or None."""
    if ind["input"] == "deduction":
        return None
    for column in range(level + 1, 6):
        cell = ind["cells"][column - 1]
        if cell["points"] is not None and cell["points"] > points:
            return {
                "level": column,
                "condition": cell["text"],
                "points_gain": cell["points"] - points,
            }
    return None


def explain(standard, values):
    """score() plus, per indicator, its name, maximum and the next level to reach."""
    std = _standard(standard)
    result = score(std, values)
    for ind in std["indicators"]:
        entry = result["indicators"][ind["number"]]
        entry.update(
            category=ind["category"],
            name=ind["name"],
            max_points=max_points(ind),
            next=_next_cell(ind, entry["level"], entry["points"]),
        )
    higher = [b for b in std["star_bands"] if b["stars"] > result["stars"]]
    result["next_stars"] = (
        {
            "stars": higher[0]["stars"],
            "min_total": higher[0]["min_total"],
            "points_needed": higher[0]["min_total"] - result["total"],
        }
        if higher
        else None
    )
    return result
