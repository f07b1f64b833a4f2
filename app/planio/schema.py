"""Validate a parsed plan file against plans/README.md, collecting every error.

Each error names the file, the path inside it (``indicators[12].four_star.value``)
and the problem. String limits come from the model columns, so a file that passes
also fits PostgreSQL.
"""

import re
from dataclasses import dataclass, field

import networkx as nx

from app.engines import limits, standards
from app.engines.quantities import link_problems
from app.models import Department, Dependency, Indicator, Milestone, Plan, PlanNode, Region
from app.planio.checker import Checker, as_date, join
from app.planio.reader import PlanError, read_plan

OPS = (">=", ">", "<=", "<", "==")
REGION_KINDS = ("city", "county")
DEPARTMENT_KINDS = ("government", "enterprise", "party", "judicial", "public_institution")
NODE_KINDS = ("center", "system", "program", "framework", "task", "project", "group")

TOP = {"code", "title", "issued", "source", "period", "region", "standard", "targets"}
TOP |= {"departments", "nodes", "dependencies", "indicators"}
NODE = {"key", "kind", "number", "title", "text", "departments", "children", "milestones"}
MILESTONE = {"key", "title", "text", "due", "lead", "co", "source", "targets", "indicators"}
TARGET = {"metric", "op", "value", "unit", "indicator", "part"}
DEPENDENCY = {"predecessor", "successor", "lag_days", "inferred", "reason"}
INDICATOR = {"key", "table", "category", "number", "name", "definition", "unit", "star"}
INDICATOR |= {"four_star", "five_star", "weight_four_star", "weight_five_star"}
INDICATOR |= {"departments", "parts", "standard"}
CELL = {"target", "op", "value", "due", "part", "and"}
PART = {"key", "name", "unit"}
CONDITION = {"part", "op", "value"}
LINK = {"indicator", "quantity", "unit", "part"}
PART_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
OLD_LINK = "standard_indicator"

__all__ = ["PlanError", "as_date", "validate", "validate_file"]


@dataclass
class _Seen:
    """What the walk has met so far, for uniqueness and reference checks."""

    listed: set = field(default_factory=set)  # department names
    keys: dict = field(default_factory=dict)  # key -> where (nodes, milestones, indicators)
    nodes: set = field(default_factory=set)
    milestones: set = field(default_factory=set)
    indicator_refs: list = field(default_factory=list)  # (where, key)
    deliveries: list = field(default_factory=list)  # (where, target, milestone's indicator keys)
    indicators: dict = field(default_factory=dict)  # key -> (name, unit, {part key: part})


def validate_file(path) -> tuple[object, list[PlanError]]:
    """The parsed file and all its errors (reading and schema)."""
    data, errors = read_plan(path)
    if data is not None or not errors:  # an empty file reads as None, without an error
        errors += validate(data, str(path))
    return data, errors


def validate(data, filename: str = "<plan>") -> list[PlanError]:
    """Every problem of a parsed plan file; an empty list means it may be loaded."""
    chk = Checker(filename)
    if data is None:
        chk.err("(top)", "the file is empty: expected a plan (a mapping with code, title, period …)")
        return chk.errors
    if not isinstance(data, dict):
        chk.err("(top)", "expected a mapping")
        return chk.errors
    seen = _Seen()
    departments: dict = {}
    chk.known(data, TOP, "")
    chk.get(data, "code", "", "key", limit=Plan.code)
    chk.get(data, "title", "", "str", limit=Plan.title)
    chk.get(data, "issued", "", "date", required=False, null=True)
    chk.get(data, "source", "", "str", required=False, null=True, limit=Plan.source)
    _header(chk, data)
    code = chk.get(data, "standard", "", "str", limit=Plan.standard_code)
    std = _standard(chk, code) if code else None
    for where, dept in chk.items(data, "departments", "", required=True):
        chk.known(dept, {"name", "kind"}, where)
        chk.get(dept, "kind", where, "str", choices=DEPARTMENT_KINDS)
        name = chk.get(dept, "name", where, "str", limit=Department.name)
        chk.unique(departments, name, join(where, "name"), "department")
        seen.listed.add(name)
    for where, node in chk.items(data, "nodes", "", required=True):
        _node(chk, node, where, seen)
    indicators = set()
    for where, ind in chk.items(data, "indicators", ""):
        indicators.add(_indicator(chk, ind, where, seen, std))
    for where, key in seen.indicator_refs:
        if key not in indicators:
            chk.err(where, f"unknown indicator {key!r}")
    _deliveries(chk, seen)
    _dependencies(chk, data, seen)
    return chk.errors


def _header(chk: Checker, data: dict) -> None:
    period = chk.get(data, "period", "", "map")
    if period is not None:
        chk.known(period, {"start", "end"}, "period")
        start = chk.get(period, "start", "period", "date")
        end = chk.get(period, "end", "period", "date")
        if start and end and start > end:
            chk.err("period.end", f"{end} is before the start {start}")
        elif start and end:
            chk.period = (start, end)
    region = chk.get(data, "region", "", "map")
    if region is not None:
        chk.known(region, {"name", "kind", "parent"}, "region")
        name = chk.get(region, "name", "region", "str", limit=Region.name)
        chk.get(region, "kind", "region", "str", choices=REGION_KINDS)
        parent = chk.get(region, "parent", "region", "str", required=False, null=True, limit=Region.name)
        if parent is not None and parent == name:
            chk.err("region.parent", "a region cannot be its own parent")
    stars = {}
    for where, target in chk.items(data, "targets", "", required=True):
        chk.known(target, {"stars", "due"}, where)
        chk.due(target, where, "星级目标期限")
        value = chk.get(target, "stars", where, "int", choices=(1, 2, 3, 4, 5))
        chk.unique(stars, value, join(where, "stars"), "star target")


def _node(chk: Checker, node: dict, where: str, seen: _Seen) -> None:
    chk.known(node, NODE, where)
    key = chk.get(node, "key", where, "key", limit=PlanNode.key)
    chk.unique(seen.keys, key, join(where, "key"), "key")
    seen.nodes.add(key)
    chk.get(node, "kind", where, "str", choices=NODE_KINDS)
    chk.get(node, "number", where, "str", required=False, null=True, limit=PlanNode.number)
    chk.get(node, "title", where, "str", limit=PlanNode.title)
    chk.get(node, "text", where, "str", required=False, null=True)
    chk.names(node, "departments", where, seen.listed)
    for ms_where, ms in chk.items(node, "milestones", where):
        _milestone(chk, ms, ms_where, seen)
    for child_where, child in chk.items(node, "children", where):
        _node(chk, child, child_where, seen)


def _milestone(chk: Checker, ms: dict, where: str, seen: _Seen) -> None:
    chk.known(ms, MILESTONE, where)
    key = chk.get(ms, "key", where, "key", limit=Milestone.key)
    chk.unique(seen.keys, key, join(where, "key"), "key")
    seen.milestones.add(key)
    chk.get(ms, "title", where, "str", limit=Milestone.title)
    chk.get(ms, "text", where, "str", required=False, null=True)
    chk.due(ms, where, "完成期限")
    chk.get(ms, "source", where, "str", required=False, null=True, limit=Milestone.source)
    lead = chk.get(ms, "lead", where, "str")
    if lead is not None and lead not in seen.listed:
        chk.err(join(where, "lead"), f"department {lead!r} is not listed in departments")
    co = chk.names(ms, "co", where, seen.listed)
    if lead is not None and lead in co:
        chk.err(f"{join(where, 'co')}[{co.index(lead)}]", f"{lead!r} is already the lead department")
    refs = chk.get(ms, "indicators", where, "list", required=False, null=True) or []
    declared: dict = {}
    for t_where, target in chk.items(ms, "targets", where):
        chk.known(target, TARGET, t_where)
        chk.get(target, "metric", t_where, "str")
        chk.get(target, "op", t_where, "str", choices=OPS)
        value = chk.get(target, "value", t_where, "number")
        unit = chk.get(target, "unit", t_where, "str", required=False, null=True)
        chk.percent(value, join(t_where, "value"), unit, "目标值")
        key = chk.get(target, "indicator", t_where, "str", required=False, null=True)
        part = chk.get(target, "part", t_where, "str", required=False, null=True)
        if key is None:
            if part is not None:
                chk.err(join(t_where, "part"), "a part needs the indicator it is a part of")
            continue
        if key not in refs:
            chk.err(join(t_where, "indicator"), f"{key!r} is not in the milestone's indicators")
            continue
        if (key, part) in declared:
            what = f"indicator {key}" + (f" part {part}" if part is not None else "")
            chk.err(t_where, f"duplicate delivery to {what} (first at {declared[key, part]})")
            continue
        declared[key, part] = t_where
        seen.deliveries.append((t_where, target))
    for i, ref in enumerate(refs):
        ref_where = f"{join(where, 'indicators')}[{i}]"
        if not isinstance(ref, str):
            chk.err(ref_where, f"expected an indicator key, got {ref!r}")
        elif ref in refs[:i]:
            chk.err(ref_where, f"indicator {ref!r} named twice")
        else:
            seen.indicator_refs.append((ref_where, ref))


def _indicator(chk: Checker, ind: dict, where: str, seen: _Seen, std: dict | None) -> str | None:
    if OLD_LINK in ind:
        chk.err(
            join(where, OLD_LINK), "replaced by standard: {indicator, quantity, unit, part} (plans/README.md)"
        )
    chk.known(ind, INDICATOR | {OLD_LINK}, where)
    key = chk.get(ind, "key", where, "key", limit=Indicator.key)
    chk.unique(seen.keys, key, join(where, "key"), "key")
    for name, column in (("table", Indicator.table_name), ("category", Indicator.category)):
        chk.get(ind, name, where, "str", required=False, null=True, limit=column)
    chk.get(ind, "number", where, "str", required=False, null=True, limit=Indicator.number)
    name = chk.get(ind, "name", where, "str", limit=Indicator.name)
    chk.get(ind, "definition", where, "str", required=False, null=True)
    unit = chk.get(ind, "unit", where, "str", required=False, null=True, limit=Indicator.unit)
    chk.get(ind, "star", where, "bool", required=False)
    parts = _parts(chk, ind, where)
    for band in ("four_star", "five_star"):
        cell = chk.get(ind, band, where, "map", null=True)
        if cell is not None:
            _cell(chk, cell, join(where, band), parts, unit)
        weight = chk.get(ind, f"weight_{band}", where, "number", required=False, null=True)
        if weight is not None and weight < 0:
            chk.err(join(where, f"weight_{band}"), f"negative weight {weight}")
    chk.names(ind, "departments", where, seen.listed, required=True)
    link = chk.get(ind, "standard", where, "map", required=False, null=True)
    if link is not None:
        _link(chk, link, join(where, "standard"), name, unit, parts, std)
    if key is not None:
        seen.indicators[key] = (name, unit, {p["key"]: p for p in parts or []})
    return key


def _parts(chk: Checker, ind: dict, where: str) -> list[dict] | None:
    """The measured parts of a compound indicator (each well-formed one), or None."""
    values = chk.get(ind, "parts", where, "list", required=False, null=True)
    if values is None:
        return None
    if len(values) < 2:
        chk.err(join(where, "parts"), "a compound indicator has at least two parts")
    out, keys = [], {}
    for i, part in enumerate(values):
        p_where = f"{join(where, 'parts')}[{i}]"
        if not isinstance(part, dict):
            chk.err(p_where, f"expected a mapping, got {part!r}")
            continue
        chk.known(part, PART, p_where)
        key = chk.get(part, "key", p_where, "str", limit=Indicator.four_star_part)
        if key is not None and not PART_KEY_RE.match(key):
            chk.err(join(p_where, "key"), f"{key!r} is not a part key of [a-z0-9_] starting with a letter")
            key = None
        chk.unique(keys, key, join(p_where, "key"), "part")
        name = chk.get(part, "name", p_where, "str")
        unit = chk.get(part, "unit", p_where, "str", null=True, limit=Indicator.unit)
        if key is not None and name is not None:
            out.append({"key": key, "name": name, "unit": unit})
    return out


def _link(chk: Checker, link: dict, where: str, name, unit, parts, std: dict | None) -> None:
    """A link to the standard: it must name the standard indicator's own quantity and
    unit, and be fed by a part (or the indicator) measured in that unit."""
    chk.known(link, LINK, where)
    number = chk.get(link, "indicator", where, "str", limit=Indicator.standard_indicator)
    quantity = chk.get(link, "quantity", where, "str", limit=Indicator.standard_quantity)
    before = len(chk.errors)
    chk.get(link, "unit", where, "str", null=True, limit=Indicator.standard_unit)
    chk.get(link, "part", where, "str", required=False, null=True, limit=Indicator.standard_part)
    if len(chk.errors) > before or number is None or quantity is None or std is None:
        return
    for field_name, problem in link_problems(link, unit, parts, std, name):
        chk.err(join(where, field_name), problem)


def _cell(chk: Checker, cell: dict, where: str, parts: list[dict] | None, unit=None) -> None:
    chk.known(cell, CELL, where)
    chk.get(cell, "target", where, "str")
    chk.due(cell, where, "指标目标期限")
    units = {p["key"]: p["unit"] for p in parts or []}
    op = chk.get(cell, "op", where, "str", null=True, choices=OPS)
    value = chk.get(cell, "value", where, "number", null=True)
    if cell.get("op") is None and value is not None:
        chk.err(join(where, "op"), "a numeric value needs an op")
    elif cell.get("value") is None and op is not None:
        chk.err(join(where, "value"), f"op {op!r} needs a numeric value")
    part = chk.get(cell, "part", where, "str", required=False, null=True)
    chk.percent(value, join(where, "value"), units.get(part) if parts else unit, "目标值")
    more = chk.get(cell, "and", where, "list", required=False, null=True)
    if parts is None:
        if part is not None:
            chk.err(join(where, "part"), "the indicator has no parts")
        if more:
            chk.err(join(where, "and"), "only an indicator with parts has further conditions")
        return
    keys = [p["key"] for p in parts]
    numeric = cell.get("op") is not None
    if not numeric and (part is not None or more):
        chk.err(where, "a descriptive cell (op null) has no part conditions")
        return
    if numeric and cell.get("part") is None:
        chk.err(
            join(where, "part"),
            f"missing: the indicator has parts ({', '.join(keys)}); name the one op/value is on",
        )
    named = {part} if part is not None else set()
    if part is not None and part not in keys:
        chk.err(join(where, "part"), f"{part!r} is not a part of the indicator ({', '.join(keys)})")
    for j, cond in enumerate(more or []):
        c_where = f"{join(where, 'and')}[{j}]"
        if not isinstance(cond, dict):
            chk.err(c_where, f"expected a mapping, got {cond!r}")
            continue
        chk.known(cond, CONDITION, c_where)
        chk.get(cond, "op", c_where, "str", choices=OPS)
        c_value = chk.get(cond, "value", c_where, "number")
        c_part = chk.get(cond, "part", c_where, "str")
        chk.percent(c_value, join(c_where, "value"), units.get(c_part), "目标值")
        if c_part is None:
            continue
        if c_part not in keys:
            chk.err(join(c_where, "part"), f"{c_part!r} is not a part of the indicator ({', '.join(keys)})")
        elif c_part in named:
            chk.err(join(c_where, "part"), f"part {c_part!r} already has a condition in this cell")
        named.add(c_part)


def _deliveries(chk: Checker, seen: _Seen) -> None:
    """A milestone target that names an indicator declares the value it delivers: it
    must be in the indicator's (or the part's) unit."""
    for where, target in seen.deliveries:
        key, part = target["indicator"], target.get("part")
        if key not in seen.indicators:
            continue  # the milestone's indicators list already names the unknown key
        name, unit, parts = seen.indicators[key]
        if parts:
            if part is None:
                keys = ", ".join(parts)
                chk.err(
                    join(where, "part"),
                    f"missing: indicator {key} has parts ({keys}); name the one delivered",
                )
                continue
            if part not in parts:
                chk.err(
                    join(where, "part"), f"{part!r} is not a part of indicator {key} ({', '.join(parts)})"
                )
                continue
            unit, what = parts[part]["unit"], f"part {part} ({parts[part]['name']}) of indicator {key}"
        elif part is not None:
            chk.err(join(where, "part"), f"indicator {key} ({name}) has no parts")
            continue
        else:
            what = f"indicator {key} ({name})"
        if unit is None:
            chk.err(
                join(where, "indicator"),
                f"{what} is descriptive (assessed by level); no value can be declared",
            )
        elif target.get("unit") != unit:
            chk.err(join(where, "unit"), f"{target.get('unit')} is not the unit {unit} of {what}")


def _dependencies(chk: Checker, data: dict, seen: _Seen) -> None:
    pairs: dict = {}
    edges = []
    for where, dep in chk.items(data, "dependencies", ""):
        chk.known(dep, DEPENDENCY, where)
        ends = {role: chk.get(dep, role, where, "str") for role in ("predecessor", "successor")}
        for role, key in ends.items():
            if key is not None and key not in seen.milestones:
                what = "a node, not a milestone" if key in seen.nodes else "not a milestone key"
                chk.err(join(where, role), f"{key!r} is {what}")
        lag = chk.get(dep, "lag_days", where, "int", required=False)
        problem = lag is not None and limits.lag_problem(lag)
        if problem:
            chk.err(join(where, "lag_days"), problem)
        inferred = chk.get(dep, "inferred", where, "bool", required=False)
        reason = chk.get(dep, "reason", where, "str", required=False, null=True, limit=Dependency.reason)
        if inferred and reason is None:
            chk.err(join(where, "reason"), "an inferred dependency needs a one-line reason")
        elif reason is not None and "\n" in reason.strip():
            chk.err(join(where, "reason"), "must be one line")
        pred, succ = ends["predecessor"], ends["successor"]
        if pred is None or succ is None or not {pred, succ} <= seen.milestones:
            continue
        if pred == succ:
            chk.err(where, f"{pred!r} cannot depend on itself")
            continue
        chk.unique(pairs, (pred, succ), where, "dependency")
        edges.append((where, pred, succ))
    _cycles(chk, edges)


def _cycles(chk: Checker, edges: list[tuple[str, str, str]]) -> None:
    """Name each cycle once, by its keys and the dependencies that form it."""
    graph = nx.DiGraph()
    for where, pred, succ in edges:
        graph.add_edge(pred, succ, where=where)
    for component in sorted(nx.strongly_connected_components(graph), key=sorted):
        if len(component) < 2:
            continue
        # A fresh graph built in sorted order: subgraph views iterate sets, whose
        # order changes between runs, and the message should not.
        sub = nx.DiGraph(sorted((u, v) for u, v in graph.edges(component) if v in component))
        cycle = nx.find_cycle(sub, source=min(component))
        keys = " → ".join([u for u, _ in cycle] + [cycle[0][0]])
        wheres = [graph.edges[u, v]["where"] for u, v in cycle]
        chk.err(wheres[-1], f"dependency cycle {keys} (from {', '.join(wheres)})")


def _standard(chk: Checker, code: str) -> dict | None:
    if not (standards.STANDARDS_DIR / f"{code}.yaml").is_file():
        chk.err("standard", f"no file plans/standards/{code}.yaml")
        return None
    try:
        return standards.load_standard(code)
    except ValueError as exc:
        chk.err("standard", f"standard {code!r} is invalid: {exc}")
        return None
