"""甘特图: a plan's milestones on a time line, grouped by plan node or by lead department.

Each bar runs from the milestone's start to its current due date, with its baseline
(the due date before any extension) beneath. The plans give no start: it is
estimated by the forecast engine's own rule (app.engines.forecast_milestones.
estimated_starts), so the Gantt and the 星级测算 agree. Forecast finish, slack,
lateness and the critical path come from app.plans.graph_data.plan_graph: the newest
stored ForecastRun while it still describes the plan, as on the 依赖关系图 page.

One JSON document (gantt.json) carries everything gantt.js draws; it is built with a
fixed number of queries whatever the plan's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import jsonify, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app import access
from app.engines.forecast_milestones import estimated_starts
from app.extensions import db
from app.models import Extension, Milestone, PlanNode
from app.plans import bp
from app.plans.graph_data import edge_rows, plan_graph
from app.status import plan_status

GROUPINGS = {"node": "按计划节点", "department": "按牵头部门"}


@dataclass(frozen=True)
class _StartInput:
    """What estimated_starts reads of a milestone (the forecast state's fields)."""

    id: int
    due: date
    start: date | None
    predecessors: tuple  # ((predecessor id, lag days), ...)


def milestone_starts(milestones, deps) -> dict[int, date]:
    """{milestone id: estimated start} by the forecast engine's rule, on the current due dates."""
    preds = defaultdict(list)
    for d in deps:
        preds[d.successor_id].append((d.predecessor_id, d.lag_days))
    rows = [_StartInput(m.id, m.due_date, None, tuple(preds[m.id])) for m in milestones]
    return {r.id: s for r, s in zip(rows, estimated_starts(rows), strict=True)}


def _grouping(by: str) -> str:
    return by if by in GROUPINGS else "node"


def _node_groups(plan_id: int, milestones) -> tuple[list[dict], dict[int, str]]:
    """Groups by plan node: each top-level node, then each of its children (a milestone of a
    deeper node counts under its second-level ancestor). ({group}, {milestone id: group id})."""
    nodes = db.session.scalars(
        select(PlanNode).where(PlanNode.plan_id == plan_id).order_by(PlanNode.position, PlanNode.id)
    ).all()
    by_id = {n.id: n for n in nodes}

    def chain(node):  # root first
        out = [node]
        while out[0].parent_id is not None and out[0].parent_id in by_id:
            out.insert(0, by_id[out[0].parent_id])
        return out

    def label(n):
        return f"{n.number} {n.title}" if n.number else n.title

    of = {}
    used = set()
    for m in milestones:
        path = chain(by_id[m.node_id])
        key = path[1].id if len(path) > 1 else path[0].id
        of[m.id] = f"n{key}"
        used.update(p.id for p in path[:2])
    groups = []
    for n in nodes:  # in plan order: a parent before its children
        if n.id not in used:
            continue
        groups.append(
            {
                "id": f"n{n.id}",
                "label": label(n),
                "level": 0 if n.parent_id is None else 1,
                "parent": None if n.parent_id is None else f"n{n.parent_id}",
            }
        )
    # plan order puts roots by position; keep each root's children right after it
    roots = [g for g in groups if g["level"] == 0]
    ordered = []
    for r in roots:
        ordered.append(r)
        ordered.extend(g for g in groups if g["parent"] == r["id"])
    return ordered, of


def _department_groups(milestones) -> tuple[list[dict], dict[int, str]]:
    """Groups by lead department, in the order the departments were entered (the plan's)."""
    names = {m.lead_department_id: m.lead_department.name for m in milestones}
    groups = [{"id": f"d{i}", "label": names[i], "level": 0, "parent": None} for i in sorted(names)]
    return groups, {m.id: f"d{m.lead_department_id}" for m in milestones}


def _extensions(plan_id: int) -> dict[int, list[Extension]]:
    rows = db.session.scalars(
        select(Extension)
        .join(Milestone, Extension.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan_id)
        .order_by(Extension.created_at, Extension.id)
    )
    out = defaultdict(list)
    for e in rows:
        out[e.milestone_id].append(e)
    return out


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def gantt_payload(plan, by: str = "node") -> dict:
    """The document gantt.js draws (dates ISO)."""
    by = _grouping(by)
    pg = plan_graph(plan)
    starts = milestone_starts(pg.milestones, pg.deps)
    exts = _extensions(plan.id)
    if by == "department":
        groups, group_of = _department_groups(pg.milestones)
    else:
        groups, group_of = _node_groups(plan.id, pg.milestones)
    tri = plan_status(plan, pg.today).rows  # the 三色 every page shows
    rows = []
    for m in pg.milestones:
        s = pg.entry(m.id)
        st = tri[m.id].status
        rows.append(
            {
                "id": m.id,
                "title": m.title,
                "group": group_of[m.id],
                "department": m.lead_department.name,
                "status": m.status,
                "status_label": m.status_label,
                "percent": m.percent,
                "start": starts[m.id].isoformat(),
                "due": m.due_date.isoformat(),
                "baseline_due": m.baseline_due_date.isoformat(),
                "extended": m.due_date != m.baseline_due_date,
                "extensions": [
                    {"old_due": e.old_due.isoformat(), "new_due": e.new_due.isoformat()}
                    for e in exts.get(m.id, [])
                ],
                "done": s.done,
                "actual_finish": _iso(m.actual_finish),
                "forecast_finish": s.forecast_finish.isoformat(),
                "slack_days": None if s.done else s.slack_days,
                "overdue": s.overdue,
                "days_to_due": s.days,
                "late": s.late,
                "critical": s.critical,
                "colour": st.colour,
                "colour_label": st.label,
                "reasons": list(st.reasons),
                "url": url_for("plans.milestone", milestone_id=m.id),
            }
        )
    # Rows inside a group: by start, then due date (a cascade), then id.
    rows.sort(key=lambda r: (r["start"], r["due"], r["id"]))
    edges = edge_rows(pg)
    dates = [plan.period_start, plan.period_end, pg.today, pg.target_date]
    for r in rows:
        dates += [date.fromisoformat(r[k]) for k in ("start", "due", "baseline_due", "forecast_finish")]
    run = pg.run
    return {
        "plan": plan.code,
        "by": by,
        "today": pg.today.isoformat(),
        "target_date": pg.target_date.isoformat(),
        "range": {"start": min(dates).isoformat(), "end": max(dates).isoformat()},
        "computed": run is not None,
        "computed_at": run.computed_at.isoformat() + "Z" if run else None,
        "basis": pg.basis,
        "basis_note": pg.basis_note,
        "critical_path": pg.critical_path,
        "groups": groups,
        "rows": rows,
        "edges": edges,
    }


@bp.route("/plans/<code>/gantt")
@login_required
def gantt(code: str):
    plan = access.load_viewable_plan(current_user, code)
    by = _grouping(request.args.get("by", "node"))
    pg = plan_graph(plan)
    extended = [m for m in pg.milestones if m.due_date != m.baseline_due_date]
    return render_template(
        "plans/gantt.html",
        plan=plan,
        pg=pg,
        by=by,
        groupings=GROUPINGS,
        extended=sorted(extended, key=lambda m: (m.due_date, m.id)),
        extension_counts={mid: len(rows) for mid, rows in _extensions(plan.id).items()},
    )


@bp.route("/plans/<code>/gantt.json")
@login_required
def gantt_json(code: str):
    plan = access.load_viewable_plan(current_user, code)
    return jsonify(gantt_payload(plan, request.args.get("by", "node")))
