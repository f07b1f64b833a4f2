"""graph.json and gantt.json for big plans: aggregated by plan node until zoomed.

A plan of at most DETAIL_MAX milestones is sent whole, milestone by milestone, as
before. A bigger plan is sent as a graph of plan nodes (its top-level nodes by default):
each with its milestone counts, and edges between nodes counting the dependencies that
cross them, critical when a critical dependency does. ?node=<id> zooms into one node:
its own milestones and their direct neighbours outside it when the subtree holds at most
DETAIL_MAX milestones, else its child nodes (and the other top-level nodes) aggregated
the same way. So no answer grows with the size of the plan beyond what it shows.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from app.extensions import db
from app.models import PlanNode

DETAIL_MAX = 300  # milestones drawn one by one
NEIGHBOURS_MAX = 100  # milestones outside a zoomed node drawn beside it


def node_tree(plan_id: int):
    """{node id: PlanNode} and {parent id: [child ids]} (by position)."""
    nodes = db.session.scalars(
        select(PlanNode).where(PlanNode.plan_id == plan_id).order_by(PlanNode.position, PlanNode.id)
    ).all()
    children = defaultdict(list)
    for n in nodes:
        children[n.parent_id].append(n.id)
    return {n.id: n for n in nodes}, children


def subtree(children, node_id: int) -> set[int]:
    out, todo = set(), [node_id]
    while todo:
        n = todo.pop()
        out.add(n)
        todo.extend(children.get(n, []))
    return out


def ancestor_at(nodes, node_id: int, level_ids: set[int]) -> int | None:
    """The node among level_ids that node_id is or lies under (None if none)."""
    n = node_id
    while n is not None:
        if n in level_ids:
            return n
        n = nodes[n].parent_id
    return None


def zoom(pg, node_id: int | None):
    """What to draw: ("milestones", ids, outside ids) or ("nodes", {milestone id: group id},
    groups [(group id, title, number, node id)], focus node or None)."""
    node_of = pg.node_of
    nodes, children = node_tree(pg.plan.id)
    if node_id is None:
        if len(node_of) <= DETAIL_MAX:
            return "milestones", list(node_of), []
        level = children.get(None, [])
        groups = {nid: nid for nid in level}
        return "nodes", _grouping(nodes, node_of, set(level)), [_group(nodes[g]) for g in groups], None
    inside_nodes = subtree(children, node_id)
    inside = [mid for mid, n in node_of.items() if n in inside_nodes]
    if len(inside) <= DETAIL_MAX:
        inner = set(inside)
        outside = []
        for mid in inside:
            for o in [*pg.graph.predecessors(mid), *pg.graph.successors(mid)]:
                if o in node_of and o not in inner and o not in outside:
                    outside.append(o)
        return "milestones", inside, outside[:NEIGHBOURS_MAX]
    kids = children.get(node_id, [])
    roots = [
        r
        for r in children.get(None, [])
        if r not in inside_nodes and ancestor_at(nodes, node_id, {r}) is None
    ]
    level = set(kids) | set(roots) | {node_id}  # node_id itself: the milestones on the node
    groups = (
        [_group(nodes[node_id], own=True)]
        + [_group(nodes[k]) for k in kids]
        + [_group(nodes[r]) for r in roots]
    )
    return "nodes", _grouping(nodes, node_of, level), groups, node_id


def _group(node, own: bool = False) -> tuple:
    title = f"{node.title}（本节点）" if own else node.title
    return (node.id, title, node.number)


def _grouping(nodes, node_of, level: set[int]) -> dict[int, int]:
    """{milestone id: the node of `level` it lies under}; milestones under none are left out."""
    cache: dict[int, int | None] = {}
    out = {}
    for mid, nid in node_of.items():
        if nid not in cache:
            cache[nid] = ancestor_at(nodes, nid, level)
        if cache[nid] is not None:
            out[mid] = cache[nid]
    return out


def aggregate(
    pg, grouping: dict[int, int], groups: list[tuple], url_for_node
) -> tuple[list[dict], list[dict]]:
    """Node-level nodes (counts) and edges (dependencies crossing two groups)."""
    stats = {
        g: {"total": 0, "open": 0, "at_risk": 0, "critical": 0, "late": 0, "overdue": 0} for g, *_ in groups
    }
    for mid, g in grouping.items():
        s = pg.entry(mid)
        if g not in stats or s is None:
            continue
        st = stats[g]
        st["total"] += 1
        st["open"] += not s.done
        st["at_risk"] += s.at_risk
        st["critical"] += s.critical
        st["late"] += s.late
        st["overdue"] += s.overdue
    on_path = pg.schedule.critical_edges
    edges: dict[tuple, dict] = {}
    for d in pg.deps:
        a, b = grouping.get(d.predecessor_id), grouping.get(d.successor_id)
        if a is None or b is None or a == b:
            continue
        e = edges.setdefault((a, b), {"pred": f"n{a}", "succ": f"n{b}", "count": 0, "critical": False})
        e["count"] += 1
        e["critical"] = e["critical"] or (d.predecessor_id, d.successor_id) in on_path
        e["inferred"] = False
        e["lag_days"] = 0
    out = []
    for g, title, number in groups:
        st = stats[g]
        out.append(
            {
                "id": f"n{g}",
                "kind": "group",
                "node_id": g,
                "title": f"{number} {title}" if number else title,
                "status": "done" if st["total"] and not st["open"] else "in_progress",
                **st,
                "at_risk": st["at_risk"] > 0,
                "risk_count": st["at_risk"],
                "critical": st["critical"] > 0,
                "critical_count": st["critical"],
                "after_target": False,
                "url": url_for_node(g),
            }
        )
    return out, list(edges.values())
