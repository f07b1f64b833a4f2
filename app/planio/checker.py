"""The checking toolkit of the plan schema: typed field access that records errors."""

import re
from datetime import date

from app.engines import limits
from app.planio.reader import PlanError

KEY_RE = re.compile(r"^[a-z0-9-]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER_LABELS = {
    "value": "数值",
    "lag_days": "间隔天数",
    "stars": "星级",
    "weight_four_star": "四星权重",
    "weight_five_star": "五星权重",
}


def as_date(value) -> date | None:
    """A schema date (ISO text, or a date from another YAML reader) as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _limit(column) -> int | None:
    return getattr(column.property.columns[0].type, "length", None)


def join(path: str, key) -> str:
    if not isinstance(key, str) or not key.isprintable() or key.strip() != key or not key:
        # a key that would vanish from the path, or break its line: shown quoted
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _type_ok(kind: str, value) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {"str": str, "bool": bool, "list": list, "map": dict}[kind])


class Checker:
    def __init__(self, filename: str):
        self.file = filename
        self.errors: list[PlanError] = []
        self.period: tuple | None = None  # (start, end) once the header has a valid period

    def due(self, obj, path, label: str):
        """The `due` date of obj, within the plan's period plus its margin (limits.due_problem)."""
        value = self.get(obj, "due", path, "date")
        if value is not None and self.period is not None:
            problem = limits.due_problem(value, *self.period, label=label)
            if problem:
                self.err(join(path, "due"), problem)
                return None
        return value

    def percent(self, value, where: str, unit, label: str) -> None:
        """A value in a unit of % lies in 0–100 (limits.percent_problem)."""
        if value is not None and unit == limits.PERCENT_UNIT:
            problem = limits.percent_problem(value, label)
            if problem:
                self.err(where, problem)

    def err(self, path: str, problem: str) -> None:
        self.errors.append(PlanError(self.file, path, problem))

    def known(self, obj: dict, allowed: set, path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.err(join(path, key), "unknown field")

    def get(self, obj, key, path, kind, *, required=True, null=False, choices=None, limit=None):
        """The field's value if present and well-formed, else None (with an error)."""
        where = join(path, key)
        if key not in obj:
            if required:
                self.err(where, "missing")
            return None
        value = obj[key]
        if value is None:
            if not null:
                self.err(where, "must not be null")
            return None
        if kind == "date":
            return self.date(value, where)
        if kind == "key":
            kind, pattern = "str", KEY_RE
        else:
            pattern = None
        if not _type_ok(kind, value):
            self.err(where, f"expected {kind}, got {type(value).__name__} {value!r}")
            return None
        if kind in ("number", "int"):
            problem = limits.number_problem(value, NUMBER_LABELS.get(key, str(key)))
            if problem:
                self.err(where, problem)
                return None
        if choices is not None and value not in choices:
            self.err(where, f"{value!r} is not one of {', '.join(map(str, choices))}")
            return None
        if pattern and not pattern.match(value):
            self.err(where, f"{value!r} is not a key of [a-z0-9-]")
            return None
        if kind == "str" and not value.strip():
            self.err(where, "empty")
            return None
        if limit and len(value) > _limit(limit):
            self.err(where, f"longer than {_limit(limit)} characters")
            return None
        return value

    def date(self, value, where):
        if isinstance(value, date):
            return value
        if isinstance(value, str) and DATE_RE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError as exc:
                self.err(where, f"invalid date {value!r}: {exc}")
                return None
        self.err(where, f"expected an ISO date YYYY-MM-DD, got {value!r}")
        return None

    def items(self, obj, key, path, *, required=False):
        """(path, item) for each mapping in a list field; non-mappings are errors."""
        values = self.get(obj, key, path, "list", required=required, null=not required) or []
        for i, item in enumerate(values):
            where = f"{join(path, key)}[{i}]"
            if isinstance(item, dict):
                yield where, item
            else:
                self.err(where, f"expected a mapping, got {item!r}")

    def names(self, obj, key, path, listed, *, required=False):
        """A list of department names, each listed in `departments`, no repeats."""
        values = self.get(obj, key, path, "list", required=required, null=not required) or []
        if required and obj.get(key) == []:
            self.err(join(path, key), "needs at least one department")
        for i, name in enumerate(values):
            where = f"{join(path, key)}[{i}]"
            if not isinstance(name, str):
                self.err(where, f"expected a department name, got {name!r}")
            elif name not in listed:
                self.err(where, f"department {name!r} is not listed in departments")
            elif name in values[:i]:
                self.err(where, f"department {name!r} named twice")
        return values

    def unique(self, seen: dict, key, where: str, what: str) -> None:
        if key is None:
            return
        if key in seen:
            self.err(where, f"duplicate {what} {key!r} (first at {seen[key]})")
        else:
            seen[key] = where
