"""A plan's status summary for the tree page and its fragments, without loading milestone objects.

The same facts and rules as app.status.plan_status (one rule set for every page), read
as plain columns, and without what only the dashboard needs (what each milestone holds
up downstream). The result is kept per process while the plan's content_version and the
date stay the same (app/plans/content_version.py), so a big plan's tree page does not
recount 6,000 milestones on every request.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.engines import status as rules
from app.engines.schedule import is_overdue, planned_start
from app.extensions import db
from app.models import (
    Dependency,
    Milestone,
    Notice,
    PlanNode,
    ProgressReport,
)
from app.plans.content_version import plan_key
from app.status.plan_status import Row, awaiting_reply, stored_forecast, thresholds_for

PAGE_SIZE = 50  # milestones of one node per page
_CACHE: dict[int, StatusSummary] = {}
_LOCK = threading.Lock()
_CACHE_PLANS = 8


@dataclass
class StatusSummary:
    key: tuple
    thresholds: rules.Thresholds
    statuses: dict[int, rules.Status]  # milestone id -> 三色 status
    starts: dict[int, date]
    nodes: dict[int, tuple]  # node id -> (parent id, position)
    children: dict[int | None, list[int]]
    counts: dict[int, dict]  # node id -> status counts of its subtree (plan.html counts_line)
    tri: dict[int, rules.Counts]  # node id -> 三色 counts of its subtree
    own: dict[int, int] = field(default_factory=dict)  # node id -> milestones on the node itself
    points: dict[str, list] = field(
        default_factory=dict
    )  # milestone key -> standard points its delivery adds
    totals: dict = field(default_factory=dict)
    tri_totals: rules.Counts = field(default_factory=rules.Counts)


def status_summary(plan, today: date) -> StatusSummary:
    key = plan_key(plan, today)
    with _LOCK:
        hit = _CACHE.get(plan.id)
    if hit is not None and hit.key == key:
        return hit
    summary = _compute(plan, today, key)
    with _LOCK:
        if len(_CACHE) >= _CACHE_PLANS and plan.id not in _CACHE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[plan.id] = summary
    return summary


def _compute(plan, today: date, key: tuple) -> StatusSummary:
    from app.status.plan_status import latest_run

    th = thresholds_for(plan.id)
    rows = db.session.execute(
        select(
            Milestone.id, Milestone.node_id, Milestone.due_date, Milestone.status, Milestone.percent
        ).where(Milestone.plan_id == plan.id)
    ).all()
    due = {r.id: r.due_date for r in rows}
    preds = defaultdict(list)
    for pred, succ in db.session.execute(
        select(Dependency.predecessor_id, Dependency.successor_id).where(Dependency.plan_id == plan.id)
    ):
        preds[succ].append(pred)
    returned = set(
        db.session.scalars(
            select(ProgressReport.milestone_id)
            .join(Milestone, ProgressReport.milestone_id == Milestone.id)
            .where(Milestone.plan_id == plan.id, ProgressReport.state == "returned")
        )
    )
    open_notices = Counter()
    for n in db.session.scalars(
        select(Notice)
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan.id)
    ):
        if awaiting_reply(n):
            open_notices[n.milestone_id] += 1
    finish, _chance, points = stored_forecast(latest_run(plan.id))
    nodes = {
        n.id: (n.parent_id, n.position)
        for n in db.session.execute(
            select(PlanNode.id, PlanNode.parent_id, PlanNode.position).where(PlanNode.plan_id == plan.id)
        )
    }
    children: dict[int | None, list[int]] = defaultdict(list)
    for nid, (parent, _position) in sorted(nodes.items(), key=lambda kv: (kv[1][1], kv[0])):
        children[parent].append(nid)
    statuses, starts = {}, {}
    own_status: dict[int, Counter] = defaultdict(Counter)
    own_tri: dict[int, rules.Counts] = defaultdict(rules.Counts)
    for r in rows:
        start = planned_start(r.due_date, [due[p] for p in preds[r.id] if p in due])
        facts = rules.MilestoneFacts(
            due=r.due_date,
            done=r.status == "done",
            percent=r.percent,
            start=start,
            forecast_finish=finish.get(r.id),
            returned=r.id in returned,
            open_notices=open_notices[r.id],
        )
        st = rules.milestone_status(facts, today, th)
        statuses[r.id], starts[r.id] = st, start
        c = own_status[r.node_id]
        c[r.status] += 1
        c["total"] += 1
        c["overdue"] += is_overdue(r.due_date, today, r.status == "done")
        own_tri[r.node_id].add(st.colour)
    counts: dict[int, dict] = {}
    tri: dict[int, rules.Counts] = {}

    def roll(nid: int) -> None:  # iterative post-order: the tree may be deep
        stack = [(nid, False)]
        while stack:
            n, seen = stack.pop()
            if not seen:
                stack.append((n, True))
                stack.extend((c, False) for c in children.get(n, []))
                continue
            c = Counter(own_status.get(n, {}))
            t = rules.Counts()
            for colour in rules.ORDER:
                setattr(t, colour, getattr(own_tri[n], colour) if n in own_tri else 0)
            for child in children.get(n, []):
                c.update(counts[child])
                for colour in rules.ORDER:
                    setattr(t, colour, getattr(t, colour) + getattr(tri[child], colour))
            counts[n], tri[n] = dict(c), t

    for root in children.get(None, []):
        roll(root)
    totals = Counter()
    tri_totals = rules.Counts()
    for root in children.get(None, []):
        totals.update(counts[root])
        for colour in rules.ORDER:
            setattr(tri_totals, colour, getattr(tri_totals, colour) + getattr(tri[root], colour))
    totals.setdefault("total", 0)
    return StatusSummary(
        key=key,
        thresholds=th,
        statuses=statuses,
        starts=starts,
        nodes=nodes,
        children=dict(children),
        counts=counts,
        tri=tri,
        own={n: c["total"] for n, c in own_status.items()},
        totals=dict(totals),
        tri_totals=tri_totals,
        points=dict(points),
    )


def ancestors(summary: StatusSummary, node_id: int) -> list[int]:
    """The node's ancestors, root first (without the node)."""
    out, parent = [], summary.nodes[node_id][0]
    while parent is not None:
        out.append(parent)
        parent = summary.nodes[parent][0]
    return out[::-1]


def status_row(summary: StatusSummary, m) -> Row:
    """The milestone page's 三色 row (status, planned start, points at stake) from the summary."""
    return Row(
        milestone=m,
        status=summary.statuses[m.id],
        start=summary.starts[m.id],
        points=summary.points.get(m.key, []),
    )
