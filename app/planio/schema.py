"""Validate a parsed plan file against plans/README.md, collecting every error.

Each error names the file, the path inside it (``indicators[12].four_star.value``)
and the problem. String limits come from the model columns, so a file that passes
also fits PostgreSQL.
"""

import re
from datetime import date

import networkx as nx

from app.engines import standards
from app.models import Department, Dependency, Indicator, Milestone, Plan, PlanNode, Region
from app.planio.reader import PlanError, read_plan

KEY_RE = re.compile(r"^[a-z0-9-]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
OPS = (">=", ">", "<=", "<", "==")
REGION_KINDS = ("city", "county")
DEPARTMENT_KINDS = ("government", "enterprise", "party", "judicial", "public_institution")
NODE_KINDS = ("center", "system", "program", "framework", "task", "project", "group")

TOP = {"code", "title", "issued", "source", "period", "region", "standard", "targets"}
TOP |= {"departments", "nodes", "dependencies", "indicators"}
NODE = {"key", "kind", "number", "title", "text", "departments", "children", "milestones"}
MILESTONE = {"key", "title", "text", "due", "lead", "co", "source", "targets", "indicators"}
INDICATOR = {"key", "table", "category", "number", "name", "definition", "unit", "star"}
INDICATOR |= {"four_star", "five_star", "weight_four_star", "weight_five_star"}
INDICATOR |= {"departments", "standard_indicator"}
CELL = {"target", "op", "value", "due"}
DEPENDENCY = {"predecessor", "successor", "lag_days", "inferred", "reason"}
TARGET = {"metric", "op", "value", "unit"}

__all__ = ["PlanError", "as_date", "validate", "validate_file"]


def as_date(value) -> date | None:
    """A schema date (ISO text, or a date from another YAML reader) as a date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _limit(column) -> int | None:
    return getattr(column.property.columns[0].type, "length", None)


def _join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def _type_ok(kind: str, value) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {"str": str, "bool": bool, "list": list, "map": dict}[kind])


class _Check:
    def __init__(self, filename: str):
        self.file = filename
        self.errors: list[PlanError] = []

    def err(self, path: str, problem: str) -> None:
        self.errors.append(PlanError(self.file, path, problem))

    def known(self, obj: dict, allowed: set, path: str) -> None:
        for key in obj:
            if key not in allowed:
                self.err(_join(path, key), "unknown field")

    def get(self, obj, key, path, kind, *, required=True, null=False, choices=None, limit=None):
        """The field's value if present and well-formed, else None (with an error)."""
        where = _join(path, key)
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
            where = f"{_join(path, key)}[{i}]"
            if isinstance(item, dict):
                yield where, item
            else:
                self.err(where, f"expected a mapping, got {item!r}")

    def names(self, obj, key, path, listed, *, required=False):
        """A list of department names, each listed in `departments`, no repeats."""
        values = self.get(obj, key, path, "list", required=required, null=not required) or []
        if required and not values:
            self.err(_join(path, key), "needs at least one department")
        for i, name in enumerate(values):
            where = f"{_join(path, key)}[{i}]"
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


def validate_file(path) -> tuple[object, list[PlanError]]:
    data, errors = read_plan(path)
    if data is not None:
        errors += validate(data, str(path))
    return data, errors


def validate(data, filename: str = "<plan>") -> list[PlanError]:
    """Every problem of a parsed plan file; an empty list means it may be loaded."""
    from app.planio.schema_parts import check_plan

    chk = _Check(filename)
    if not isinstance(data, dict):
        chk.err("(top)", "expected a mapping")
        return chk.errors
    check_plan(chk, data)
    return chk.errors


LIMITS = {
    "code": Plan.code,
    "title": Plan.title,
    "source": Plan.source,
    "standard": Plan.standard_code,
    "region": Region.name,
    "department": Department.name,
    "node_key": PlanNode.key,
    "node_number": PlanNode.number,
    "node_title": PlanNode.title,
    "ms_key": Milestone.key,
    "ms_title": Milestone.title,
    "ms_source": Milestone.source,
    "reason": Dependency.reason,
    "ind_key": Indicator.key,
    "ind_table": Indicator.table_name,
    "ind_category": Indicator.category,
    "ind_number": Indicator.number,
    "ind_name": Indicator.name,
    "ind_unit": Indicator.unit,
    "standard_indicator": Indicator.standard_indicator,
}


def check_cycles(chk: _Check, edges: list[tuple[str, str, str]]) -> None:
    """Name each cycle once, by its keys and the dependencies that form it."""
    graph = nx.DiGraph()
    for where, pred, succ in edges:
        graph.add_edge(pred, succ, where=where)
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        cycle = nx.find_cycle(graph.subgraph(component))
        keys = " → ".join([u for u, _ in cycle] + [cycle[0][0]])
        wheres = [graph.edges[u, v]["where"] for u, v in cycle]
        chk.err(wheres[-1], f"dependency cycle {keys} ({', '.join(wheres)})")


def standard_numbers(chk: _Check, code: str) -> set[str] | None:
    if not (standards.STANDARDS_DIR / f"{code}.yaml").is_file():
        chk.err("standard", f"no file plans/standards/{code}.yaml")
        return None
    try:
        data = standards.load_standard(code)
    except ValueError as exc:
        chk.err("standard", f"standard {code!r} is invalid: {exc}")
        return None
    return {row["number"] for row in data.get("indicators") or data.get("items") or []}
