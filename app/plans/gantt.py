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
from types import SimpleNamespace

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import access, section_cache
from app.engines.forecast_milestones import estimated_starts
from app.extensions import db
from app.models import Department, Extension, Milestone, PlanNode
from app.plans import bp
from app.plans.graph_data import edge_rows, graph_key, plan_graph
from app.plans.graph_views import _node_arg

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


def _extensions(plan_id: int, ids=None) -> dict[int, list[Extension]]:
    q = (
        select(Extension)
        .join(Milestone, Extension.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan_id)
    )
    if ids is not None:
        q = q.where(Extension.milestone_id.in_(list(ids) or [0]))
    rows = db.session.scalars(q.order_by(Extension.created_at, Extension.id))
    out = defaultdict(list)
    for e in rows:
        out[e.milestone_id].append(e)
    return out


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _light(pg):
    """The plan's milestones as estimated_starts reads them, from the cached graph (no ORM rows)."""
    return [SimpleNamespace(id=mid, due_date=pg.graph.nodes[mid]["m"].due) for mid in pg.node_of]


def _row(m, s, st, group, start, exts) -> dict:
    return {
        "id": m.id,
        "title": m.title,
        "group": group,
        "department": m.lead_department.name,
        "status": m.status,
        "status_label": m.status_label,
        "percent": m.percent,
        "start": start.isoformat(),
        "due": m.due_date.isoformat(),
        "baseline_due": m.baseline_due_date.isoformat(),
        "extended": m.due_date != m.baseline_due_date,
        "extensions": [
            {"old_due": e.old_due.isoformat(), "new_due": e.new_due.isoformat()} for e in exts.get(m.id, [])
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


WORST = {"red": 0, "yellow": 1, "blue": 2, "done": 3}
COLOUR_LABEL = {"red": "红", "yellow": "黄", "blue": "蓝", "done": "已完成"}


def _summary_rows(pg, plan, grouping: dict, groups: list[tuple], starts, statuses, by: str) -> list[dict]:
    """One bar per group: from its earliest start to its latest due date, in its worst colour."""
    members = defaultdict(list)
    for mid, g in grouping.items():
        members[g].append(mid)
    rows = []
    for g, title, number in groups:
        ids = members.get(g, [])
        if not ids:
            continue
        entries = [pg.entry(i) for i in ids]
        colour = min((statuses[i].colour for i in ids), key=WORST.get)
        done = all(e.done for e in entries)
        url = url_for("plans.gantt", code=plan.code, node=g) if by == "node" else None
        rows.append(
            {
                "id": f"n{g}",
                "kind": "summary",
                "title": f"{number} {title}（{len(ids)} 个里程碑）"
                if number
                else f"{title}（{len(ids)} 个里程碑）",
                "group": f"n{g}" if by == "node" else f"d{g}",
                "department": "",
                "status": "done" if done else "in_progress",
                "status_label": "已完成" if done else f"未完成 {sum(not e.done for e in entries)} 个",
                "percent": round(sum(pg.graph.nodes[i]["m"].percent for i in ids) / len(ids)),
                "start": min(starts[i] for i in ids).isoformat(),
                "due": max(e.due for e in entries).isoformat(),
                "baseline_due": max(e.due for e in entries).isoformat(),
                "extended": False,
                "extensions": [],
                "done": done,
                "actual_finish": None,
                "forecast_finish": max(e.forecast_finish for e in entries).isoformat(),
                "slack_days": None if done else min(e.slack_days for e in entries if not e.done),
                "overdue": any(e.overdue for e in entries),
                "days_to_due": None,
                "late": any(e.late for e in entries),
                "critical": any(e.critical for e in entries),
                "colour": colour,
                "colour_label": COLOUR_LABEL[colour],
                "reasons": [],
                "url": url,
            }
        )
    return rows


def gantt_payload(plan, by: str = "node", node_id: int | None = None) -> dict:
    """The document gantt.js draws (dates ISO). A plan of more than DETAIL_MAX milestones comes
    as one summary bar per plan node (or lead department) until zoomed into a node (?node=)."""
    from app.plans.graph_zoom import DETAIL_MAX, zoom
    from app.plans.tree_data import status_summary

    by = _grouping(by)
    pg = plan_graph(plan)
    starts = milestone_starts(_light(pg), pg.deps)
    statuses = status_summary(plan, pg.today).statuses  # the 三色 every page shows
    big = len(pg.node_of) > DETAIL_MAX
    edges = []
    if by == "department" and big:
        leads = dict(
            db.session.execute(
                select(Milestone.id, Milestone.lead_department_id).where(Milestone.plan_id == plan.id)
            ).all()
        )
        names = dict(
            db.session.execute(
                select(Department.id, Department.name).where(Department.id.in_(set(leads.values())))
            ).all()
        )
        order = sorted(names)
        groups = [{"id": f"d{i}", "label": names[i], "level": 0, "parent": None} for i in order]
        rows = _summary_rows(pg, plan, leads, [(i, names[i], None) for i in order], starts, statuses, by)
    elif by == "node" and (big or node_id is not None):
        how = zoom(pg, node_id)
        if how[0] == "milestones":
            by_id = pg.load(how[1])
            milestones = sorted(by_id.values(), key=lambda m: (m.due_date, m.id))
            groups, group_of = _node_groups(plan.id, milestones)
            exts = _extensions(plan.id, list(by_id))
            rows = [
                _row(m, pg.entry(m.id), statuses[m.id], group_of[m.id], starts[m.id], exts)
                for m in milestones
            ]
            edges = [e for e in edge_rows(pg) if e["pred"] in by_id and e["succ"] in by_id]
        else:
            _, grouping, node_groups, _focus = how
            groups = [
                {"id": f"n{g}", "label": f"{n} {t}" if n else t, "level": 0, "parent": None}
                for g, t, n in node_groups
            ]
            rows = _summary_rows(pg, plan, grouping, node_groups, starts, statuses, by)
    else:
        milestones = pg.milestones
        exts = _extensions(plan.id)
        if by == "department":
            groups, group_of = _department_groups(milestones)
        else:
            groups, group_of = _node_groups(plan.id, milestones)
        rows = [
            _row(m, pg.entry(m.id), statuses[m.id], group_of[m.id], starts[m.id], exts) for m in milestones
        ]
        edges = edge_rows(pg)
    # Rows inside a group: by start, then due date (a cascade), then id.
    rows.sort(key=lambda r: (r["start"], r["due"], str(r["id"])))
    dates = [plan.period_start, plan.period_end, pg.today, pg.target_date]
    for r in rows:
        dates += [date.fromisoformat(r[k]) for k in ("start", "due", "baseline_due", "forecast_finish")]
    run = pg.run
    return {
        "plan": plan.code,
        "by": by,
        "level": "nodes" if rows and rows[0].get("kind") == "summary" else "milestones",
        "focus": node_id,
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


EXTENDED_MAX = 50  # rows of the page's table of extended milestones


@bp.route("/plans/<code>/gantt")
@login_required
def gantt(code: str):
    plan = access.load_viewable_plan(current_user, code)
    by = _grouping(request.args.get("by", "node"))
    node = _node_arg(plan)
    pg = plan_graph(plan)
    extended_q = select(Milestone).where(
        Milestone.plan_id == plan.id, Milestone.due_date != Milestone.baseline_due_date
    )
    extended_total = db.session.scalar(select(func.count()).select_from(extended_q.subquery()))
    extended = db.session.scalars(
        extended_q.options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
        .limit(EXTENDED_MAX)
    ).all()
    return render_template(
        "plans/gantt.html",
        plan=plan,
        pg=pg,
        by=by,
        node=node,
        groupings=GROUPINGS,
        extended=extended,
        extended_total=extended_total,
        extension_counts={
            mid: len(rows) for mid, rows in _extensions(plan.id, [m.id for m in extended]).items()
        },
    )


@bp.route("/plans/<code>/gantt.json")
@login_required
def gantt_json(code: str):
    plan = access.load_viewable_plan(current_user, code)
    node_id = node.id if (node := _node_arg(plan)) else None
    by = _grouping(request.args.get("by", "node"))
    return section_cache.json_response(
        ("gantt.json", *graph_key(plan), plan.updated_at, by, node_id),
        lambda: gantt_payload(plan, by, node_id),
    )
