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

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, clock
from app.dates import cn_date
from app.engines.graph import DependencyData, MilestoneData, build_graph, downstream, upstream
from app.engines.schedule import MilestoneSchedule, Schedule, plan_schedule
from app.extensions import db
from app.forecasting.snapshot import latest_run, target_date_of
from app.formatting import soon_days
from app.models import Dependency, ForecastRun, Milestone, Plan

STORED = "stored"  # finish dates of the stored run, which still describes the plan
RECOMPUTED = "recomputed"  # the plan changed after the stored run: finish dates worked out again
RULE = "rule"  # no stored run yet: finish dates from the rule


def _plan_rows(plan_id: int):
    """Milestones in the order the forecast inputs use (due date, id), and dependencies by id."""
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan_id)
        .options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    deps = db.session.scalars(
        select(Dependency).where(Dependency.plan_id == plan_id).order_by(Dependency.id)
    ).all()
    return milestones, deps


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


@dataclass
class PlanGraph:
    """A plan's milestones and dependencies with their schedule on today's date."""

    plan: Plan
    run: ForecastRun | None  # the newest stored run
    today: date
    target_date: date
    milestones: list[Milestone]
    deps: list[Dependency]
    graph: object  # networkx DiGraph (app.engines.graph)
    schedule: Schedule
    basis: str  # STORED | RECOMPUTED | RULE
    changes: list[str]  # why the stored run no longer describes the plan (RECOMPUTED)

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


def plan_graph(plan: Plan) -> PlanGraph:
    run = latest_run(plan)
    milestones, deps = _plan_rows(plan.id)
    today, target = clock.today(), target_date_of(plan)
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
    return PlanGraph(plan, run, today, target, milestones, deps, graph, schedule, basis, changes)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def graph_payload(plan: Plan, milestone_url) -> dict:
    """The JSON document graph.js draws (dates ISO). milestone_url(id) -> link."""
    pg = plan_graph(plan)
    nodes = []
    for m in pg.milestones:
        s = pg.entry(m.id)
        nodes.append(
            {
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
                "url": milestone_url(m.id),
            }
        )
    edges = edge_rows(pg)
    run = pg.run
    return {
        "plan": plan.code,
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
    by_id = {m.id: m for m in pg.milestones}
    return [PathItem(by_id[i], pg.entry(i)) for i in pg.critical_path]


def tightest_items(pg: PlanGraph, limit: int = 10) -> list[PathItem]:
    """Open milestones due by the assessment date, least slack first: all that are at risk
    (overdue, late or behind), and at least `limit`."""
    items = [PathItem(m, pg.entry(m.id)) for m in pg.milestones if not m.is_done]
    items = [i for i in items if not i.s.after_target]
    items.sort(key=lambda i: (i.s.slack_days, i.m.due_date, i.m.id))
    return items[: max(limit, sum(i.s.at_risk for i in items))]  # every one at risk, at least `limit`


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


def milestone_neighbourhood(user, m: Milestone) -> Neighbourhood:
    """What blocks m and what m holds up (open milestones, transitively, through the
    current dependency rows), each with its schedule."""
    pg = plan_graph(m.plan)
    by_id = {o.id: o for o in pg.milestones}
    up = upstream(pg.graph, m.id, pg.today)
    down = downstream(pg.graph, m.id, pg.today)
    linked = [e["id"] for e in up + down]
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

    up_items = sorted(
        (item(e) for e in up), key=lambda i: (-i.s.forecast_finish.toordinal(), i.depth, i.m.id)
    )
    down_items = sorted((item(e) for e in down), key=lambda i: (i.depth, i.s.forecast_finish, i.m.id))
    return Neighbourhood(pg=pg, own=pg.entry(m.id), upstream=up_items, downstream=down_items)
