"""Load and validate the star standards in plans/standards/ (pure Python + PyYAML).

A star standard (level city or county) has five-column indicators scored as in
shared/spec/scoring.md; the community standard is a list of pass/fail items.
Every structural problem raises ValueError("<file>: <path>: <problem>").
"""

import functools
import pickle
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
STANDARDS_DIR = ROOT / "plans" / "standards"

STAR_LEVELS = ("city", "county")
INPUT_KINDS = (
    "number",
    "rank",
    "level-only",
    "coverage_intact",
    "contribution_departments",
    "parts",
    "pilots",
    "parks",
    "deduction",
)
# Field names a condition may use, per input kind (empty: scalar conditions only).
FIELDS = {
    "coverage_intact": {"coverage", "intact"},
    "contribution_departments": {"contribution", "departments"},
    "pilots": {"national", "provincial", "related"},
    "parks": {"municipal", "provincial"},
}
OPS = (">=", ">", "<=", "<", "==")
COLUMNS = 5


class _Checker:
    """Collects the file name so every error names file and path."""

    def __init__(self, filename):
        self.filename = filename

    def fail(self, path, problem):
        raise ValueError(f"{self.filename}: {path}: {problem}")

    def need(self, obj, key, types, path, nullable=False):
        if not isinstance(obj, dict):
            self.fail(path, "expected a mapping")
        if key not in obj:
            self.fail(f"{path}.{key}" if path else key, "missing")
        value = obj[key]
        if value is None and nullable:
            return None
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
            self.fail(
                f"{path}.{key}" if path else key,
                f"expected {_type_names(types)}, got {value!r}",
            )
        return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _type_names(types):
    return " or ".join(t.__name__ for t in _as_tuple(types))


def _check_numbers(chk, rows, path):
    """Numbers are strings '1'..'N', unique and consecutive."""
    for i, row in enumerate(rows):
        number = chk.need(row, "number", str, f"{path}[{i}]")
        if number != str(i + 1):
            chk.fail(
                f"{path}[{i}].number",
                f"expected '{i + 1}' (consecutive), got {number!r}",
            )


def _check_condition(chk, cond, kind, path):
    if not isinstance(cond, dict):
        chk.fail(path, f"condition must be a mapping, got {cond!r}")
    for comb in ("all", "any"):
        if comb in cond:
            parts = cond[comb]
            if set(cond) != {comb} or not isinstance(parts, list) or not parts:
                chk.fail(path, f"'{comb}' needs a non-empty list and no other keys")
            for j, sub in enumerate(parts):
                _check_condition(chk, sub, kind, f"{path}.{comb}[{j}]")
            return
    allowed = FIELDS.get(kind, set())
    extra = set(cond) - {"op", "value", "field", "sum"}
    if extra:
        chk.fail(path, f"unknown keys {sorted(extra)}")
    if cond.get("op") not in OPS:
        chk.fail(f"{path}.op", f"expected one of {OPS}, got {cond.get('op')!r}")
    value = cond.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        chk.fail(f"{path}.value", f"expected a number, got {value!r}")
    names = []
    if "field" in cond:
        names = [cond["field"]]
    elif "sum" in cond:
        names = cond["sum"] if isinstance(cond["sum"], list) and cond["sum"] else [None]
    elif allowed:
        chk.fail(path, f"input '{kind}' needs a 'field' or 'sum'")
    for name in names:
        if name not in allowed:
            chk.fail(path, f"field {name!r} not allowed for input '{kind}'")


def _check_cells(chk, ind, kind, path):
    cells = chk.need(ind, "cells", list, path)
    if len(cells) != COLUMNS:
        chk.fail(f"{path}.cells", f"expected {COLUMNS} cells, got {len(cells)}")
    last = 0
    for c, cell in enumerate(cells):
        cpath = f"{path}.cells[{c}]"
        text = chk.need(cell, "text", str, cpath)
        points = chk.need(cell, "points", int, cpath, nullable=True)
        cond = cell.get("condition") if isinstance(cell, dict) else None
        if "condition" not in cell:
            chk.fail(f"{cpath}.condition", "missing")
        if kind == "deduction":
            if points is not None or cond is not None:
                chk.fail(cpath, "deduction cells carry no points and no condition")
            continue
        if (text == "/") != (points is None):
            chk.fail(cpath, "a '/' cell has null points, any other cell has points")
        if points is None:
            if cond is not None:
                chk.fail(f"{cpath}.condition", "a '/' cell has no condition")
            continue
        if points <= last:
            chk.fail(
                f"{cpath}.points",
                f"points must rise column to column ({points} after {last})",
            )
        last = points
        if kind == "level-only":
            if cond is not None:
                chk.fail(f"{cpath}.condition", "level-only indicators have no condition")
        elif cond is None:
            chk.fail(f"{cpath}.condition", "missing for a cell with points")
        else:
            _check_condition(chk, cond, kind, f"{cpath}.condition")
    if kind != "deduction" and last == 0:
        chk.fail(f"{path}.cells", "no cell gives points")


def _check_indicator(chk, ind, path):
    for key in ("category", "name", "description"):
        chk.need(ind, key, str, path)
    chk.need(ind, "star", bool, path)
    chk.need(ind, "unit", str, path, nullable=True)
    kind = chk.need(ind, "input", str, path)
    if kind not in INPUT_KINDS:
        chk.fail(f"{path}.input", f"unknown input kind {kind!r}")
    if kind == "parts":
        parts = chk.need(ind, "parts", list, path)
        if len(parts) != 3 or len(set(parts)) != 3 or not all(isinstance(p, str) for p in parts):
            chk.fail(f"{path}.parts", "expected three distinct part names")
    elif "parts" in ind:
        chk.fail(f"{path}.parts", f"only for input 'parts', not '{kind}'")
    if kind == "deduction":
        per = chk.need(ind, "deduction_per_incident", int, path)
        if per <= 0:
            chk.fail(f"{path}.deduction_per_incident", "must be positive")
    _check_cells(chk, ind, kind, path)


def _check_star_standard(chk, data):
    max_total = chk.need(data, "max_total", int, "")
    bands = chk.need(data, "star_bands", list, "")
    prev = None
    for i, band in enumerate(bands):
        stars = chk.need(band, "stars", int, f"star_bands[{i}]")
        low = chk.need(band, "min_total", int, f"star_bands[{i}]")
        if stars != i or (prev is None and low != 0) or (prev is not None and low <= prev):
            chk.fail(
                f"star_bands[{i}]",
                "bands must be stars 0, 1, ... with rising min_total from 0",
            )
        prev = low
    indicators = chk.need(data, "indicators", list, "")
    if not indicators:
        chk.fail("indicators", "empty")
    _check_numbers(chk, indicators, "indicators")
    for i, ind in enumerate(indicators):
        _check_indicator(chk, ind, f"indicators[{i}]")
    if full_marks(data) != max_total:
        chk.fail(
            "max_total",
            f"is {max_total} but the highest cells sum to {full_marks(data)}",
        )


def _check_community(chk, data):
    if chk.need(data, "scoring", str, "") != "pass_fail":
        chk.fail("scoring", "expected 'pass_fail'")
    items = chk.need(data, "items", list, "")
    if not items:
        chk.fail("items", "empty")
    _check_numbers(chk, items, "items")
    for i, item in enumerate(items):
        for key in ("category", "name", "requirement", "assessment"):
            chk.need(item, key, str, f"items[{i}]")


def validate(data, filename="<standard>"):
    """Raise ValueError naming filename and the path inside it if data is malformed."""
    chk = _Checker(filename)
    if not isinstance(data, dict):
        chk.fail("(top)", "expected a mapping")
    for key in ("code", "title", "source"):
        chk.need(data, key, str, "")
    level = chk.need(data, "level", str, "")
    stem = Path(filename).stem
    if filename.endswith(".yaml") and data["code"] != stem:
        chk.fail("code", f"{data['code']!r} does not match the file name")
    if level in STAR_LEVELS:
        _check_star_standard(chk, data)
    elif level == "community":
        _check_community(chk, data)
    else:
        chk.fail("level", f"expected city, county or community, got {level!r}")
    return data


def load_file(path):
    """Load and validate one standard file (any path)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: (yaml): {exc}") from exc
    return validate(data, path.name)


@functools.cache
def _cached(code):
    path = STANDARDS_DIR / f"{code}.yaml"
    if not path.is_file():
        raise ValueError(f"unknown standard {code!r}")
    return load_file(path)


@functools.cache
def _pickled(code) -> bytes:
    return pickle.dumps(_cached(code), protocol=pickle.HIGHEST_PROTOCOL)


def load_standard(code):
    """The validated standard with this code (a fresh copy; the cache stays intact).
    Unpickled from bytes kept per process: a fifth of a deepcopy's time (plain data)."""
    return pickle.loads(_pickled(code))


def available_codes():
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.yaml"))


def max_points(indicator):
    """Points of the indicator's highest cell (0 for the deduction)."""
    return max((c["points"] for c in indicator["cells"] if c["points"] is not None), default=0)


def full_marks(standard):
    """Sum of every indicator's highest cell: the total a full-marks area scores."""
    return sum(max_points(ind) for ind in standard["indicators"])


def stars_for(standard, total):
    """Stars for a total: the highest band whose min_total the total reaches."""
    stars = 0
    for band in standard["star_bands"]:
        if total >= band["min_total"]:
            stars = band["stars"]
    return stars
