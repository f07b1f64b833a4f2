"""A plan's dependency graph for pages (依赖关系图, graph.json, the milestone page's 上下游).

The structure, due dates (after any extension), status and progress come from
the tables as they are now; overdue, late, slack and the critical path are
decided on the clock's date by app.engines.schedule, so an extension or an
approval shows at once on every page. Forecast finish dates come from the newest
stored ForecastRun while it still describes the plan (computed on today's date,
with the same milestones, due dates, progress and dependencies); otherwise, e.g.
after an extension, they are worked out again from the current rows with the
deterministic rule (app.engines.graph.forecast_finish) and the page says why.
Nothing here runs the Monte Carlo forecast.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, clock
from app.dates import cn_date
from app.engines.graph import DependencyData, MilestoneData, build_graph, open_reach, preds, succs
from app.engines.schedule import MilestoneSchedule, Schedule, plan_schedule
from app.extensions import db
from app.forecasting.snapshot import latest_run, target_date_of
from app.formatting import soon_days
from app.models import Dependency, ForecastRun, Milestone, Plan
from app.plans.content_version import plan_key

STORED = "stored"  # finish dates of the stored run, which still describes the plan
RECOMPUTED = "recomputed"  # the plan changed after the stored run: finish dates worked out again
RULE = "rule"  # no stored run yet: finish dates from the rule


def _plan_rows(plan_id: int, deps: bool = True):
    """Milestones in the order the forecast inputs use (due date, id), and dependencies by id."""
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan_id)
        .options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    if not deps:
        return milestones, None
    rows = db.session.scalars(
        select(Dependency).where(Dependency.plan_id == plan_id).order_by(Dependency.id)
    ).all()
    return milestones, rows


def milestone_data(m: Milestone) -> MilestoneData:
    return MilestoneData(
        id=m.id,
        title=m.title,
        due=m.due_date,
        status=m.status,
        percent=m.percent,
        actual_finish=m.actual_finish,
        baseline_due=m.baseline_due_date,
        department_id=m.lead_department_id,
    )


def _changes(run: ForecastRun, stored: dict, milestones, deps, today: date, target: date) -> list[str]:
    """What is different now from what the stored run's graph describes (empty: nothing)."""
    out = []
    if run.as_of != today:
        out.append(f"日期已从 {cn_date(run.as_of)} 变为 {cn_date(today)}")
    if stored.get("target_date") != target.isoformat():
        out.append("考核日期有调整")
    entries = stored.get("milestones", {})
    if set(entries) != {str(m.id) for m in milestones}:
        out.append("里程碑有增减")
    now = {str(m.id): m for m in milestones}
    common = [(entries[k], now[k]) for k in entries if k in now]
    if any(e.get("due") != m.due_date.isoformat() for e, m in common):
        out.append("完成期限有调整（延期）")
    if any((e.get("status"), e.get("percent")) != (m.status, m.percent) for e, m in common):
        out.append("进展有更新")
    edges = {(e["pred"], e["succ"], e["lag_days"]) for e in stored.get("edges", [])}
    if edges != {(d.predecessor_id, d.successor_id, d.lag_days) for d in deps}:
        out.append("依赖关系有调整")
    return out


@dataclass(frozen=True)
class DepRow:
    """A dependency as the graph, Gantt and critical-path code read it (no ORM object)."""

    id: int
    predecessor_id: int
    successor_id: int
    lag_days: int
    inferred: bool


@dataclass
class _Structure:
    """What plan_graph works out from the rows, kept per process while they stay the same."""

    key: tuple
    graph: object
    schedule: Schedule
    basis: str
    changes: list[str]
    deps: list[DepRow]
    node_of: dict[int, int]  # milestone id -> plan node id


_CACHE: dict[int, _Structure] = {}
_LOCK = threading.Lock()
_CACHE_PLANS = 8


class PlanGraph:
    """A plan's milestones and dependencies with their schedule on today's date. The
    milestone objects load only when asked for (all of them, or some by id)."""

    def __init__(self, plan: Plan, run, today: date, target_date: date, st: _Structure, milestones=None):
        self.plan, self.run, self.today, self.target_date = plan, run, today, target_date
        self.key = st.key  # what the structure was built from (content version, target, run, window)
        self.graph, self.schedule, self.basis, self.changes = st.graph, st.schedule, st.basis, st.changes
        self.dep_rows, self.node_of = st.deps, st.node_of
        self._milestones = milestones

    @property
    def milestones(self) -> list[Milestone]:
        if self._milestones is None:
            self._milestones, _ = _plan_rows(self.plan.id, deps=False)
        return self._milestones

    @property
    def deps(self) -> list[DepRow]:
        return self.dep_rows

    def load(self, ids) -> dict[int, Milestone]:
        """Some of the plan's milestones by id (with their lead department)."""
        ids = list(ids)
        if not ids:
            return {}
        if self._milestones is not None:
            by_id = {m.id: m for m in self._milestones}
            return {i: by_id[i] for i in ids if i in by_id}
        rows = db.session.scalars(
            select(Milestone)
            .where(Milestone.plan_id == self.plan.id, Milestone.id.in_(ids))
            .options(selectinload(Milestone.lead_department))
        ).all()
        return {m.id: m for m in rows}

    def entry(self, milestone_id: int) -> MilestoneSchedule | None:
        return self.schedule.get(milestone_id)

    @property
    def critical_path(self) -> list[int]:
        return self.schedule.critical_path

    @property
    def basis_note(self) -> str:
        """Where the forecast finish dates come from, in a sentence (the run's time is shown beside it)."""
        if self.basis == STORED:
            return "预计完成、余量与关键路径取自最近一次测算"
        if self.basis == RECOMPUTED:
            return (
                f"最近一次测算之后{'，'.join(self.changes)}：预计完成、余量与关键路径已按当前的"
                "完成期限和进展重新推算（下次测算后以测算为准）"
            )
        return "尚未测算：预计完成、余量与关键路径按完成期限与前置里程碑推算"


def graph_key(plan: Plan) -> tuple:
    """What a plan's graph is drawn from, for keeping what is rendered from it: the plan's
    rows with the date (its content version: the latest run and the reminder policy's 黄
    window are among those rows) and the target date. Reads nothing when the plan is loaded."""
    return (*plan_key(plan, clock.today()), target_date_of(plan))


def plan_graph(plan: Plan) -> PlanGraph:
    run = latest_run(plan)
    today, target = clock.today(), target_date_of(plan)
    key = (*plan_key(plan, today), target, run.id if run is not None else None, soon_days(plan.id))
    with _LOCK:
        st = _CACHE.get(plan.id)
    if st is not None and st.key == key:
        return PlanGraph(plan, run, today, target, st)
    milestones, deps = _plan_rows(plan.id)
    graph = build_graph(
        [milestone_data(m) for m in milestones],
        [DependencyData(pred=d.predecessor_id, succ=d.successor_id, lag_days=d.lag_days) for d in deps],
    )
    stored = (run.result or {}).get("graph") if run is not None else None
    changes = _changes(run, stored, milestones, deps, today, target) if stored else []
    finish, basis = None, RULE
    if stored and not changes:
        entries = stored["milestones"]
        finish = {m.id: date.fromisoformat(entries[str(m.id)]["forecast_finish"]) for m in milestones}
        basis = STORED
    elif stored:
        basis = RECOMPUTED
    schedule = plan_schedule(graph, today, target, finish, soon_days=soon_days(plan.id))
    rows = [DepRow(d.id, d.predecessor_id, d.successor_id, d.lag_days, d.inferred) for d in deps]
    st = _Structure(key, graph, schedule, basis, changes, rows, {m.id: m.node_id for m in milestones})
    with _LOCK:
        if len(_CACHE) >= _CACHE_PLANS and plan.id not in _CACHE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[plan.id] = st
    return PlanGraph(plan, run, today, target, st, milestones)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _milestone_node(pg: PlanGraph, m: Milestone, milestone_url, outside: bool = False) -> dict:
    s = pg.entry(m.id)
    return {
        "id": m.id,
        "title": m.title,
        "department": m.lead_department.name,
        "status": m.status,
        "status_label": m.status_label,
        "percent": m.percent,
        "due": m.due_date.isoformat(),
        "forecast_finish": s.forecast_finish.isoformat(),
        "slack_days": None if s.done else s.slack_days,
        "overdue": s.overdue,
        "days_to_due": s.days,
        "late": s.late,
        "at_risk": s.at_risk,
        "critical": s.critical,
        "after_target": s.after_target,
        "outside": outside,
        "url": milestone_url(m.id),
    }


def graph_payload(plan: Plan, milestone_url, node_id: int | None = None, node_url=None) -> dict:
    """The JSON document graph.js draws (dates ISO). milestone_url(id) -> link; node_url(node id)
    -> the graph zoomed into that node. A big plan comes aggregated by node (app.plans.graph_zoom)."""
    from app.plans.graph_zoom import aggregate, zoom

    pg = plan_graph(plan)
    how = zoom(pg, node_id)
    if how[0] == "milestones":
        _, inside, outside = how
        by_id = pg.load([*inside, *outside])
        order = sorted(by_id.values(), key=lambda m: (m.due_date, m.id))
        out_set = set(outside)
        nodes = [_milestone_node(pg, m, milestone_url, m.id in out_set) for m in order]
        shown = set(by_id)
        edges = [e for e in edge_rows(pg) if e["pred"] in shown and e["succ"] in shown]
        level = "milestones"
    else:
        _, grouping, groups, _focus = how
        nodes, edges = aggregate(pg, grouping, groups, node_url or (lambda nid: None))
        level = "nodes"
    run = pg.run
    return {
        "plan": plan.code,
        "level": level,
        "focus": node_id,
        "milestone_count": len(pg.node_of),
        "today": pg.today.isoformat(),
        "computed": run is not None,
        "computed_at": run.computed_at.isoformat() + "Z" if run else None,
        "as_of": _iso(run.as_of) if run else None,
        "basis": pg.basis,
        "basis_note": pg.basis_note,
        "target_date": pg.target_date.isoformat(),
        "critical_path": pg.critical_path,
        "nodes": nodes,
        "edges": edges,
    }


@dataclass
class PathItem:
    m: Milestone
    s: MilestoneSchedule


def critical_items(pg: PlanGraph) -> list[PathItem]:
    """The critical path, in order."""
    by_id = pg.load(pg.critical_path)
    return [PathItem(by_id[i], pg.entry(i)) for i in pg.critical_path]


TIGHTEST_MAX = 50  # rows of the graph page's table; the page says how many are at risk in all


def tightest_items(pg: PlanGraph, limit: int = 10) -> list[PathItem]:
    """Open milestones due by the assessment date, least slack first: all that are at risk
    (overdue, late or behind), and at least `limit` — at most TIGHTEST_MAX of them."""
    entries = [
        e
        for mid, e in pg.schedule.milestones.items()
        if mid in pg.node_of and not e.done and not e.after_target
    ]
    entries.sort(key=lambda e: (e.slack_days, e.due, e.id))
    count = max(limit, sum(e.at_risk for e in entries))  # every one at risk, at least `limit`
    shown = entries[: min(count, TIGHTEST_MAX)]
    by_id = pg.load([e.id for e in shown])
    return [PathItem(by_id[e.id], e) for e in shown]


def at_risk_count(pg: PlanGraph) -> int:
    return sum(
        1
        for mid, e in pg.schedule.milestones.items()
        if mid in pg.node_of and not e.after_target and e.at_risk
    )


@dataclass
class LinkItem:
    m: Milestone
    s: MilestoneSchedule
    depth: int
    visible: bool  # whether the user may open it


@dataclass
class Neighbourhood:
    pg: PlanGraph
    own: MilestoneSchedule
    upstream: list[LinkItem]
    downstream: list[LinkItem]
    upstream_total: int = 0
    downstream_total: int = 0


def edge_rows(pg: PlanGraph) -> list[dict]:
    """The dependencies as the graph and Gantt pages draw them, critical edges marked."""
    on_path = pg.schedule.critical_edges
    return [
        {
            "pred": d.predecessor_id,
            "succ": d.successor_id,
            "lag_days": d.lag_days,
            "inferred": d.inferred,
            "critical": (d.predecessor_id, d.successor_id) in on_path,
        }
        for d in pg.deps
    ]


def _reach(graph, mid, step) -> list[dict]:
    """Open milestones reached from mid by `step` (preds or succs) through open ones, with
    their depth (1 = direct): app.engines.graph.upstream / downstream without working out
    every forecast finish again (the cached schedule has them)."""
    return [{"id": n, "depth": d} for n, d in open_reach(graph, mid, step).items()]


LINK_LIMIT = 30  # rows of each list on the milestone page (the count says how many in all)


def milestone_neighbourhood(user, m: Milestone) -> Neighbourhood:
    """What blocks m and what m holds up (open milestones, transitively, through the
    current dependency rows), each with its schedule; the first LINK_LIMIT of each."""
    pg = plan_graph(m.plan)
    up = _reach(pg.graph, m.id, preds)
    down = _reach(pg.graph, m.id, succs)

    def order_up(e):
        return (-pg.entry(e["id"]).forecast_finish.toordinal(), e["depth"], e["id"])

    def order_down(e):
        return (e["depth"], pg.entry(e["id"]).forecast_finish, e["id"])

    up_shown = sorted(up, key=order_up)[:LINK_LIMIT]
    down_shown = sorted(down, key=order_down)[:LINK_LIMIT]
    linked = [e["id"] for e in up_shown + down_shown]
    by_id = pg.load(linked)
    visible = set()
    if linked:
        visible = set(
            db.session.scalars(
                select(Milestone.id).where(access.milestone_filter(user), Milestone.id.in_(linked))
            )
        )

    def item(entry) -> LinkItem:
        o = by_id[entry["id"]]
        return LinkItem(m=o, s=pg.entry(o.id), depth=entry["depth"], visible=o.id in visible)

    return Neighbourhood(
        pg=pg,
        own=pg.entry(m.id),
        upstream=[item(e) for e in up_shown],
        downstream=[item(e) for e in down_shown],
        upstream_total=len(up),
        downstream_total=len(down),
    )
