"""The milestone graph: cycles, slippage, slack, the critical path, blockers (pure; networkx).

Inputs are plain dataclasses (MilestoneData, DependencyData); outputs are dates,
lists and dicts. Dependencies are finish-to-start with a lag: read as the
issue states it, a successor cannot *finish* before its predecessor's
(forecast) finish plus the lag. Nodes are the milestone ids; an indicator a
milestone delivers is the node ("indicator", indicator_id), joined by a
"delivers" edge, and is ignored by the scheduling functions.

No function reads the clock: `today` is always passed in. Overdue, late, slack
and the critical path are decided in app.engines.schedule (slack() and
critical_path() here are its shorthands with this module's forecast finish).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta

import networkx as nx

DONE = "done"
MIN_DURATION_DAYS = 30  # default / floor of an estimated planned duration
INDICATOR = "indicator"


@dataclass(frozen=True)
class MilestoneData:
    id: object
    title: str
    due: date
    status: str = "not_started"  # not_started | in_progress | blocked | done
    percent: int = 0
    actual_finish: date | None = None
    baseline_due: date | None = None
    department_id: object = None
    duration_days: int | None = None  # planned duration; None: estimated (see build_graph)

    @property
    def is_done(self) -> bool:
        return self.status == DONE


@dataclass(frozen=True)
class DependencyData:
    pred: object
    succ: object
    lag_days: int = 0


class CycleError(ValueError):
    """A dependency that would close a cycle; `cycle` lists milestone ids in order."""

    def __init__(self, cycle, titles):
        self.cycle = list(cycle)
        names = [titles[m] for m in self.cycle] + [titles[self.cycle[0]]]
        super().__init__("添加该依赖会形成循环：" + " → ".join(names))


def indicator_node(indicator_id):
    return (INDICATOR, indicator_id)


def build_graph(milestones, dependencies=(), delivers=()):
    """A DiGraph of milestones (node attr "m": MilestoneData, "duration": days),
    dependency edges (kind "dep", "lag") and milestone → indicator edges
    (kind "delivers") from (milestone_id, indicator_id) pairs.

    A milestone without a planned duration gets the gap between its due date and
    the latest due date of its predecessors, at least MIN_DURATION_DAYS (so
    MIN_DURATION_DAYS when it has no predecessor). Raises CycleError on a cycle
    and ValueError on an unknown milestone id.
    """
    g = nx.DiGraph()
    for m in milestones:
        g.add_node(m.id, kind="milestone", m=m)
    for d in dependencies:
        for mid in (d.pred, d.succ):
            if mid not in g or g.nodes[mid].get("kind") != "milestone":
                raise ValueError(f"dependency names an unknown milestone {mid!r}")
        cycle = would_create_cycle(g, d.pred, d.succ)
        if cycle:
            raise CycleError(cycle, _titles(g))
        g.add_edge(d.pred, d.succ, kind="dep", lag=int(d.lag_days))
    for mid, iid in delivers:
        if mid not in g:
            raise ValueError(f"indicator link names an unknown milestone {mid!r}")
        g.add_node(indicator_node(iid), kind=INDICATOR, id=iid)
        g.add_edge(mid, indicator_node(iid), kind="delivers")
    for mid in milestones_of(g):
        m = g.nodes[mid]["m"]
        g.nodes[mid]["duration"] = m.duration_days or _estimated_duration(g, mid)
    return g


def _estimated_duration(g, mid):
    due = g.nodes[mid]["m"].due
    pred_dues = [g.nodes[p]["m"].due for p in preds(g, mid)]
    gap = (due - max(pred_dues)).days if pred_dues else 0
    return max(MIN_DURATION_DAYS, gap)


def _titles(g):
    return {n: g.nodes[n]["m"].title for n in milestones_of(g)}


def milestones_of(g):
    """Milestone ids in insertion order."""
    return [n for n, kind in g.nodes(data="kind") if kind == "milestone"]


def preds(g, mid):
    return [p for p in g.predecessors(mid) if g.edges[p, mid]["kind"] == "dep"]


def succs(g, mid):
    return [s for s in g.successors(mid) if g.edges[mid, s]["kind"] == "dep"]


def topological(g):
    """Milestone ids, predecessors first (Kahn's algorithm over insertion order: deterministic)."""
    ids = milestones_of(g)
    waiting = {n: len(preds(g, n)) for n in ids}
    ready = deque(n for n in ids if not waiting[n])
    order = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for s in succs(g, n):
            waiting[s] -= 1
            if not waiting[s]:
                ready.append(s)
    if len(order) != len(ids):
        raise ValueError("the dependencies contain a cycle")
    return order


def would_create_cycle(graph, pred, succ):
    """The cycle [pred, succ, …] that a new edge pred → succ would close, or None."""
    if pred == succ:
        return [pred]
    if pred not in graph or succ not in graph:
        return None
    dep_only = nx.subgraph_view(graph, filter_edge=lambda u, v: graph.edges[u, v]["kind"] == "dep")
    try:
        path = nx.shortest_path(dep_only, succ, pred)
    except nx.NetworkXNoPath:
        return None
    return [pred] + path[:-1]


def cycle_in_edges(edges, pred, succ):
    """would_create_cycle from bare (pred, succ) id pairs: a plan of thousands of
    milestones is checked without building its full graph."""
    if pred == succ:
        return [pred]
    g = nx.DiGraph()
    g.add_edges_from(edges)
    if pred not in g or succ not in g:
        return None
    try:
        path = nx.shortest_path(g, succ, pred)
    except nx.NetworkXNoPath:
        return None
    return [pred] + path[:-1]


def check_dependency(graph, pred, succ):
    """Raise CycleError (message naming the cycle by titles) if pred → succ closes one."""
    cycle = would_create_cycle(graph, pred, succ)
    if cycle:
        raise CycleError(cycle, _titles(graph))


def remaining_days(graph, mid):
    """Work left: (100 - percent)% of the planned duration, at least one day."""
    m = graph.nodes[mid]["m"]
    return max(1, math.ceil((100 - m.percent) / 100 * graph.nodes[mid]["duration"]))


def forecast_finish(graph, today):
    """{milestone id: forecast finish date}.

    done: its actual finish (its due date if none was recorded). open: the latest of
    its due date, every predecessor's forecast finish + lag, and, when it is overdue
    (due before today), today + remaining_days.
    """
    finish = {}
    for mid in topological(graph):
        m = graph.nodes[mid]["m"]
        if m.is_done:
            finish[mid] = m.actual_finish or m.due
            continue
        f = m.due
        for p in preds(graph, mid):
            f = max(f, finish[p] + timedelta(days=graph.edges[p, mid]["lag"]))
        if m.due < today:
            f = max(f, today + timedelta(days=remaining_days(graph, mid)))
        finish[mid] = f
    return finish


def latest_finish(graph, target_date):
    """{id: latest date it may finish so that it and everything downstream of it
    finish by their own due dates and by target_date}: min(due, target_date,
    min over successors of their latest finish - lag)."""
    late = {}
    for mid in reversed(topological(graph)):
        lf = min(graph.nodes[mid]["m"].due, target_date)
        for s in succs(graph, mid):
            lf = min(lf, late[s] - timedelta(days=graph.edges[mid, s]["lag"]))
        late[mid] = lf
    return late


def slack(graph, target_date, today, finish=None):
    """{id: slack in days} (negative: late by that many days), by the one rule of
    app.engines.schedule.slack: latest_finish(X) - F(X), where latest_finish holds X
    to its own due date, to target_date and to each successor's latest finish - lag.
    F: `finish` (id -> date) when given, else forecast_finish(graph, today)."""
    from app.engines import schedule  # schedule builds on this module

    return schedule.slack(graph, target_date, finish if finish is not None else forecast_finish(graph, today))


def critical_path(graph, target_date, today, finish=None):
    """The chain of open milestones with the least (<= 0) slack: app.engines.schedule.critical_path,
    with `finish` (id -> date) when given, else forecast_finish(graph, today)."""
    from app.engines import schedule

    return schedule.critical_path(
        graph, target_date, finish if finish is not None else forecast_finish(graph, today)
    )


def _entry(graph, mid, finish, depth):
    m = graph.nodes[mid]["m"]
    return {
        "id": mid,
        "title": m.title,
        "status": m.status,
        "due": m.due,
        "forecast_finish": finish[mid],
        "depth": depth,
    }


def _walk(graph, mid, today, step):
    """Open milestones reached from mid by `step` (preds or succs), through open ones only."""
    if mid not in graph:
        raise ValueError(f"unknown milestone {mid!r}")
    finish = forecast_finish(graph, today)
    depth = open_reach(graph, mid, step)
    return [_entry(graph, n, finish, d) for n, d in depth.items()], finish


def open_reach(graph, mid, step) -> dict:
    """{milestone: depth} of the open milestones reached from mid by `step` (preds or succs)
    through open ones only (1 = direct); nothing from a done milestone, which is blocked
    by, and holds up, nothing."""
    if mid not in graph or graph.nodes[mid]["m"].is_done:
        return {}
    depth, frontier = {}, [mid]
    level = 0
    while frontier:
        level += 1
        nxt = []
        for n in frontier:
            for o in step(graph, n):
                if o not in depth and o != mid and not graph.nodes[o]["m"].is_done:
                    depth[o] = level
                    nxt.append(o)
        frontier = nxt
    return depth


def upstream(graph, milestone_id, today):
    """What blocks X: its open predecessors, transitively (through open ones; a done
    milestone blocks nothing), each with depth (1 = direct) and forecast finish;
    latest forecast finish first."""
    items, _ = _walk(graph, milestone_id, today, preds)
    return sorted(items, key=lambda e: (-e["forecast_finish"].toordinal(), e["depth"]))


def downstream(graph, milestone_id, today):
    """What X holds up: its open successors, transitively (through open ones),
    nearest first, then by forecast finish."""
    items, _ = _walk(graph, milestone_id, today, succs)
    return sorted(items, key=lambda e: (e["depth"], e["forecast_finish"]))


def held_indicators(graph, milestone_id, today):
    """Ids of the indicators delivered by X or by a milestone X holds up."""
    ids = [milestone_id] + [e["id"] for e in downstream(graph, milestone_id, today)]
    found = []
    for mid in ids:
        for n in graph.successors(mid):
            if graph.edges[mid, n]["kind"] == "delivers" and graph.nodes[n]["id"] not in found:
                found.append(graph.nodes[n]["id"])
    return found
