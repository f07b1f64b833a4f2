"""A plan's dependency graph for pages: the structure (milestones, dependencies)
from the tables, the forecast values (forecast finish, slack, critical path)
from the latest stored ForecastRun. Nothing here computes a forecast; the
upstream/downstream walk only follows dependency edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import access, clock
from app.engines.graph import DependencyData, MilestoneData, build_graph, downstream, upstream
from app.extensions import db
from app.forecasting.snapshot import latest_run, target_date_of
from app.models import Dependency, ForecastRun, Milestone, Plan


def _date(value) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass
class StoredGraph:
    """The graph part of the latest stored run (empty when there is none)."""

    run: ForecastRun | None
    target_date: date
    critical_path: list[int] = field(default_factory=list)
    values: dict[int, dict] = field(default_factory=dict)  # id -> forecast_finish, slack_days, critical, due

    @property
    def critical_edges(self) -> set[tuple[int, int]]:
        return set(zip(self.critical_path, self.critical_path[1:], strict=False))

    def value(self, milestone_id: int) -> dict:
        return self.values.get(milestone_id, {})

    def after_target(self, m: Milestone) -> bool:
        """Due after the assessment date: its slack only says how far past that date it ends."""
        return m.due_date > self.target_date

    def late(self, m: Milestone) -> bool:
        """An open milestone the stored forecast finishes after its due date, or
        (when it is due by the assessment date) with negative slack."""
        v = self.values.get(m.id)
        if not v or m.is_done or v["forecast_finish"] is None:
            return False
        due = v["due"] or m.due_date
        negative = v["slack_days"] is not None and v["slack_days"] < 0 and due <= self.target_date
        return v["forecast_finish"] > due or negative


def stored_graph(plan: Plan) -> StoredGraph:
    run = latest_run(plan)
    graph = (run.result or {}).get("graph") if run is not None else None
    if not graph:
        return StoredGraph(run=None, target_date=target_date_of(plan))
    values = {
        int(key): {
            "forecast_finish": _date(entry.get("forecast_finish")),
            "slack_days": entry.get("slack_days"),
            "critical": bool(entry.get("critical")),
            "due": _date(entry.get("due")),
        }
        for key, entry in graph.get("milestones", {}).items()
    }
    return StoredGraph(
        run=run,
        target_date=_date(graph.get("target_date")) or run.target_date,
        critical_path=[int(i) for i in graph.get("critical_path", [])],
        values=values,
    )


def _plan_rows(plan_id: int):
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


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def graph_payload(plan: Plan, milestone_url) -> dict:
    """The JSON document graph.js draws (dates ISO). milestone_url(id) -> link."""
    stored = stored_graph(plan)
    milestones, deps = _plan_rows(plan.id)
    on_path = stored.critical_edges
    nodes = []
    for m in milestones:
        v = stored.value(m.id)
        nodes.append(
            {
                "id": m.id,
                "title": m.title,
                "department": m.lead_department.name,
                "status": m.status,
                "status_label": m.status_label,
                "percent": m.percent,
                "due": m.due_date.isoformat(),
                "forecast_finish": _iso(v.get("forecast_finish")),
                "slack_days": v.get("slack_days"),
                "critical": bool(v.get("critical")),
                "late": stored.late(m),
                "after_target": stored.after_target(m),
                "url": milestone_url(m.id),
            }
        )
    edges = [
        {
            "pred": d.predecessor_id,
            "succ": d.successor_id,
            "lag_days": d.lag_days,
            "inferred": d.inferred,
            "critical": (d.predecessor_id, d.successor_id) in on_path,
        }
        for d in deps
    ]
    run = stored.run
    return {
        "plan": plan.code,
        "computed": run is not None,
        "computed_at": run.computed_at.isoformat() + "Z" if run else None,
        "as_of": _iso(run.as_of) if run else None,
        "target_date": stored.target_date.isoformat(),
        "critical_path": stored.critical_path,
        "nodes": nodes,
        "edges": edges,
    }


@dataclass
class PathItem:
    m: Milestone
    forecast_finish: date | None
    slack_days: int | None
    late: bool
    after_target: bool


def critical_items(plan: Plan, stored: StoredGraph) -> list[PathItem]:
    """The stored critical path, in order, as milestones with their stored values."""
    if not stored.critical_path:
        return []
    by_id = {
        m.id: m
        for m in db.session.scalars(
            select(Milestone)
            .where(Milestone.id.in_(stored.critical_path), Milestone.plan_id == plan.id)
            .options(selectinload(Milestone.lead_department))
        )
    }
    return [_item(by_id[i], stored) for i in stored.critical_path if i in by_id]


def tightest_items(plan: Plan, stored: StoredGraph, limit: int = 10) -> list[PathItem]:
    """Open milestones due by the assessment date with the least stored slack."""
    if stored.run is None:
        return []
    open_ms = db.session.scalars(
        select(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            Milestone.status != "done",
            Milestone.due_date <= stored.target_date,
        )
        .options(selectinload(Milestone.lead_department))
    ).all()
    items = [_item(m, stored) for m in open_ms if stored.value(m.id).get("slack_days") is not None]
    items.sort(key=lambda i: (i.slack_days, i.m.due_date, i.m.id))
    return items[:limit]


def _item(m: Milestone, stored: StoredGraph) -> PathItem:
    v = stored.value(m.id)
    return PathItem(m, v.get("forecast_finish"), v.get("slack_days"), stored.late(m), stored.after_target(m))


@dataclass
class LinkItem:
    m: Milestone
    depth: int
    forecast_finish: date | None
    slack_days: int | None
    critical: bool
    late: bool
    after_target: bool
    visible: bool  # whether the user may open it


@dataclass
class Neighbourhood:
    stored: StoredGraph
    own: dict  # this milestone's stored forecast_finish, slack_days, critical
    own_late: bool
    own_after_target: bool
    upstream: list[LinkItem]
    downstream: list[LinkItem]


def milestone_neighbourhood(user, m: Milestone) -> Neighbourhood:
    """What blocks m and what m holds up (open milestones, transitively, through
    the current dependency rows), each with the stored forecast values."""
    stored = stored_graph(m.plan)
    milestones, deps = _plan_rows(m.plan_id)
    by_id = {o.id: o for o in milestones}
    graph = build_graph(
        [MilestoneData(id=o.id, title=o.title, due=o.due_date, status=o.status) for o in milestones],
        [DependencyData(pred=d.predecessor_id, succ=d.successor_id, lag_days=d.lag_days) for d in deps],
    )
    today = clock.today()
    up = upstream(graph, m.id, today)
    down = downstream(graph, m.id, today)
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
        v = stored.value(o.id)
        return LinkItem(
            m=o,
            depth=entry["depth"],
            forecast_finish=v.get("forecast_finish"),
            slack_days=v.get("slack_days"),
            critical=bool(v.get("critical")),
            late=stored.late(o),
            after_target=stored.after_target(o),
            visible=o.id in visible,
        )

    far = date.max.toordinal()
    up_items = sorted(
        (item(e) for e in up),
        key=lambda i: (-(i.forecast_finish.toordinal() if i.forecast_finish else -far), i.depth, i.m.id),
    )
    down_items = sorted(
        (item(e) for e in down),
        key=lambda i: (i.depth, i.forecast_finish.toordinal() if i.forecast_finish else far, i.m.id),
    )
    return Neighbourhood(
        stored=stored,
        own=stored.value(m.id),
        own_late=stored.late(m),
        own_after_target=stored.after_target(m),
        upstream=up_items,
        downstream=down_items,
    )
