"""The 三色 counts of a plan as the dashboard lays them out: the whole plan, each node
(top-level nodes, their children inside), each lead department; and the filter behind
one count (colour, node, department), which the list page reads back.

Every figure is a PlanStatus count, and the list behind it is PlanStatus.select() with
the same filter, so a count and its list cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from app.engines import status as rules
from app.params import parse_int
from app.status import PlanStatus


@dataclass
class CountRow:
    label: str
    counts: rules.Counts
    filters: dict  # {"node": id} or {"department": id}
    children: list[CountRow] = field(default_factory=list)


def node_rows(ps: PlanStatus, max_depth: int | None = None) -> list[CountRow]:
    """Top-level nodes in plan order, each with its children (nodes without milestones
    anywhere below are left out), down to max_depth levels below the top when given."""
    children = defaultdict(list)
    for node in ps.nodes.values():
        children[node.parent_id].append(node)
    for kids in children.values():
        kids.sort(key=lambda n: (n.position, n.id))

    def row(node, depth: int) -> CountRow | None:
        counts = ps.by_node.get(node.id)
        if counts is None or counts.total == 0:
            return None
        label = f"{node.number} {node.title}" if node.number else node.title
        kids = []
        if max_depth is None or depth < max_depth:
            kids = [r for r in (row(k, depth + 1) for k in children.get(node.id, [])) if r is not None]
        return CountRow(label, counts, {"node": node.id}, kids)

    return [r for r in (row(n, 0) for n in children.get(None, [])) if r is not None]


def department_rows(ps: PlanStatus) -> list[CountRow]:
    """Lead departments, the most red first (then yellow, then the most work)."""
    rows = [
        CountRow(ps.departments[dept_id].name, counts, {"department": dept_id})
        for dept_id, counts in ps.by_department.items()
    ]
    return sorted(rows, key=lambda r: (-r.counts.red, -r.counts.yellow, -r.counts.total, r.label))


class BadFilter(ValueError):
    """A list filter that names no colour, node or department of the plan (Chinese message)."""


@dataclass(frozen=True)
class Filter:
    colour: str | None = None
    node_id: int | None = None
    department_id: int | None = None

    def params(self) -> dict:
        out = {}
        if self.colour:
            out["colour"] = self.colour
        if self.node_id is not None:
            out["node"] = self.node_id
        if self.department_id is not None:
            out["department"] = self.department_id
        return out


def _int(raw: str | None, what: str) -> int | None:
    if raw in (None, ""):
        return None
    value = parse_int(raw)
    if value is None:
        problem = "超出范围" if raw.strip().isascii() and raw.strip().isdigit() else "不是数字"
        raise BadFilter(f"{what}编号“{raw[:40]}”{problem}。")
    return value


def parse_filter(ps: PlanStatus, args) -> Filter:
    colour = args.get("colour") or None
    if colour is not None and colour not in rules.ORDER:
        names = "、".join(f"{c}（{rules.LABELS[c]}）" for c in rules.ORDER)
        raise BadFilter(f"颜色“{colour}”无效，应为 {names} 之一。")
    node_id = _int(args.get("node"), "节点")
    if node_id is not None and node_id not in ps.nodes:
        raise BadFilter(f"节点 {node_id} 不属于计划“{ps.plan.title}”。")
    department_id = _int(args.get("department"), "部门")
    if department_id is not None and department_id not in ps.departments:
        raise BadFilter(f"部门 {department_id} 在计划“{ps.plan.title}”中没有牵头的里程碑。")
    return Filter(colour, node_id, department_id)


def describe(ps: PlanStatus, f: Filter) -> str:
    """What the list holds, in words: 红 · 智慧警务 · 市公安局牵头."""
    parts = [rules.LABELS[f.colour] if f.colour else "全部"]
    if f.node_id is not None:
        node = ps.nodes[f.node_id]
        parts.append(f"{node.number} {node.title}" if node.number else node.title)
    if f.department_id is not None:
        parts.append(f"{ps.departments[f.department_id].name}牵头")
    return " · ".join(parts)
