"""One plan's milestones with their 三色 status and what rides on each: the department,
days late, the latest report's words, what it holds up downstream, the standard points
its delivery would add, and counts by colour per node and per department.

Queries are per plan, not per row: milestones, dependencies, reports, notices, the
policy and the latest stored forecast run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask import g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.engines import status as rules
from app.engines.schedule import planned_start
from app.extensions import db
from app.models import (
    Dependency,
    ForecastRun,
    Milestone,
    Notice,
    Plan,
    PlanNode,
    ProgressReport,
    ReminderPolicy,
)


def thresholds_for(plan_id: int) -> rules.Thresholds:
    """The plan's 三色 thresholds; read once per GET request (a page asks for each 督办 and
    milestone), afresh elsewhere (a POST may have just changed them)."""
    cache = None
    if has_request_context() and request.method == "GET":
        cache = g.setdefault("status_thresholds", {})
        if plan_id in cache:
            return cache[plan_id]
    row = db.session.scalar(select(ReminderPolicy).where(ReminderPolicy.plan_id == plan_id))
    th = (
        rules.Thresholds()
        if row is None
        else rules.Thresholds(soon_days=row.status_soon_days, behind_points=row.status_behind_points)
    )
    if cache is not None:
        cache[plan_id] = th
    return th


def remember_thresholds(found: dict[int, rules.Thresholds]) -> None:
    """Thresholds read in bulk serve the rest of a GET request (the page's date cells ask again)."""
    if has_request_context() and request.method == "GET":
        g.setdefault("status_thresholds", {}).update(found)


def notice_colour(notice: Notice, today: date | None = None, th: rules.Thresholds | None = None):
    """The 三色 status of one 督办 by its reply date."""
    state = getattr(notice, "state", None) or ("answered" if notice.replied_at else "issued")
    th = th or thresholds_for(notice.milestone.plan_id)
    return rules.notice_status(notice.reply_due, today or clock.today(), state, th)


def awaiting_reply(notice: Notice) -> bool:
    """A 督办 the department has not answered (or must answer again)."""
    state = getattr(notice, "state", None)
    if state is not None:
        return state in ("issued", "acknowledged", "returned")
    return notice.replied_at is None


@dataclass
class Row:
    milestone: Milestone
    status: rules.Status
    start: date
    forecast_finish: date | None = None
    p_finish: float | None = None  # chance it is done by the assessment date
    latest_report: ProgressReport | None = None
    downstream: list[Milestone] = field(default_factory=list)  # open milestones it holds up
    points: list[dict] = field(default_factory=list)  # [{"number", "name", "points"}]

    @property
    def colour(self) -> str:
        return self.status.colour

    @property
    def points_at_stake(self) -> int:
        return sum(p["points"] for p in self.points)


@dataclass
class PlanStatus:
    plan: Plan
    today: date
    thresholds: rules.Thresholds
    run: ForecastRun | None
    rows: dict[int, Row]
    nodes: dict[int, PlanNode]
    counts: rules.Counts
    by_node: dict[int, rules.Counts]  # a node counts its whole subtree
    by_department: dict[int, rules.Counts]  # by lead department
    departments: dict = field(default_factory=dict)  # id -> Department

    def red_list(self) -> list[Row]:
        """Red first: the longest overdue, then the most points at stake, then the earliest due."""
        return sorted(
            (r for r in self.rows.values() if r.colour == rules.RED),
            key=lambda r: (-r.status.days_late, -r.points_at_stake, r.milestone.due_date, r.milestone.id),
        )

    def select(self, colour: str | None = None, node_id: int | None = None, department_id: int | None = None):
        """The rows behind one count: a colour (or all) within a node's subtree or a lead department."""
        ids = None
        if node_id is not None:
            ids = set(self._subtree_ids(node_id))
        out = []
        for r in self.rows.values():
            if colour and r.colour != colour:
                continue
            if ids is not None and r.milestone.node_id not in ids:
                continue
            if department_id is not None and r.milestone.lead_department_id != department_id:
                continue
            out.append(r)
        order = {c: i for i, c in enumerate(rules.ORDER)}
        return sorted(
            out, key=lambda r: (order[r.colour], -r.status.days_late, r.milestone.due_date, r.milestone.id)
        )

    def _subtree_ids(self, node_id: int) -> list[int]:
        out, todo = [], [node_id]
        children = defaultdict(list)
        for n in self.nodes.values():
            children[n.parent_id].append(n.id)
        while todo:
            nid = todo.pop()
            out.append(nid)
            todo.extend(children.get(nid, []))
        return out


def stored_forecast(run: ForecastRun | None) -> tuple[dict, dict, dict]:
    """From the stored run: {milestone id: median finish}, {id: P(done by the target date)},
    {milestone key: [{"number", "name", "points"}]} — the points its declared delivery adds."""
    if run is None:
        return {}, {}, {}
    return parse_forecast(run.result or {})


def parse_forecast(result: dict) -> tuple[dict, dict, dict]:
    keys = result.get("keys") or {}
    fc = result.get("forecast") or {}
    finish, chance = {}, {}
    for row in fc.get("milestones") or []:
        mid = keys.get(row.get("id"))
        if mid is None:
            continue
        if row.get("forecast_finish"):
            finish[mid] = date.fromisoformat(row["forecast_finish"])
        if row.get("p_finish") is not None:
            chance[mid] = row["p_finish"]
    points = defaultdict(list)
    for number, ind in (fc.get("indicators") or {}).items():
        for d in ind.get("deliveries") or []:
            gain = int(d.get("points") or 0) - int(ind.get("current_points") or 0)
            if gain > 0:
                points[d["milestone"]].append({"number": number, "name": ind.get("name"), "points": gain})
    return finish, chance, points


OPEN_NOTICE_STATES = ("issued", "acknowledged", "returned")  # awaiting_reply, as SQL


def milestone_facts(due, done, percent, pred_dues, finish, returned, open_notices) -> rules.MilestoneFacts:
    """What the rules need of one milestone; plan_status and plan_counts both build it here."""
    return rules.MilestoneFacts(
        due=due,
        done=done,
        percent=percent,
        start=planned_start(due, pred_dues),
        forecast_finish=finish,
        returned=returned,
        open_notices=open_notices,
    )


def latest_run(plan_id: int) -> ForecastRun | None:
    return db.session.scalar(
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan_id)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


def plan_status(plan: Plan, today: date | None = None, run: ForecastRun | None = None) -> PlanStatus:
    today = today or clock.today()
    th = thresholds_for(plan.id)
    run = run if run is not None else latest_run(plan.id)
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .options(selectinload(Milestone.lead_department))
        .order_by(Milestone.due_date, Milestone.id)
    ).all()
    by_id = {m.id: m for m in milestones}
    nodes = {n.id: n for n in db.session.scalars(select(PlanNode).where(PlanNode.plan_id == plan.id))}
    preds, succs = defaultdict(list), defaultdict(list)
    for pred, succ in db.session.execute(
        select(Dependency.predecessor_id, Dependency.successor_id).where(Dependency.plan_id == plan.id)
    ):
        preds[succ].append(pred)
        succs[pred].append(succ)
    latest, returned = {}, set()
    for r in db.session.scalars(
        select(ProgressReport)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan.id, ProgressReport.state != "draft")
        .order_by(ProgressReport.updated_at, ProgressReport.id)
    ):
        if r.kind == "lead" or r.milestone_id not in latest:
            latest[r.milestone_id] = r
        if r.state == "returned":
            returned.add(r.milestone_id)
    open_notices = defaultdict(int)
    for n in db.session.scalars(
        select(Notice)
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(Milestone.plan_id == plan.id)
    ):
        if awaiting_reply(n):
            open_notices[n.milestone_id] += 1
    finish, chance, points = stored_forecast(run)

    rows: dict[int, Row] = {}
    counts = rules.Counts()
    by_department: dict[int, rules.Counts] = defaultdict(rules.Counts)
    own: dict[int, rules.Counts] = defaultdict(rules.Counts)
    for m in milestones:
        pred_dues = [by_id[p].due_date for p in preds[m.id] if p in by_id]
        facts = milestone_facts(
            m.due_date,
            m.status == "done",
            m.percent,
            pred_dues,
            finish.get(m.id),
            m.id in returned,
            open_notices[m.id],
        )
        st = rules.milestone_status(facts, today, th)
        rows[m.id] = Row(
            milestone=m,
            status=st,
            start=facts.start,
            forecast_finish=finish.get(m.id),
            p_finish=chance.get(m.id),
            latest_report=latest.get(m.id),
            points=points.get(m.key, []),
        )
        counts.add(st.colour, m.id)
        by_department[m.lead_department_id].add(st.colour, m.id)
        own[m.node_id].add(st.colour, m.id)
    for mid, row in rows.items():
        row.downstream = [by_id[s] for s in _descendants(mid, succs) if by_id[s].status != "done"]
    by_node = _roll_up(nodes, own)
    departments = {m.lead_department_id: m.lead_department for m in milestones}
    return PlanStatus(plan, today, th, run, rows, nodes, counts, by_node, dict(by_department), departments)


def _descendants(mid: int, succs: dict) -> list[int]:
    seen, order, todo = {mid}, [], list(succs.get(mid, []))
    while todo:
        s = todo.pop(0)
        if s in seen:
            continue
        seen.add(s)
        order.append(s)
        todo.extend(succs.get(s, []))
    return order


def _roll_up(nodes: dict, own: dict) -> dict[int, rules.Counts]:
    children = defaultdict(list)
    for n in nodes.values():
        children[n.parent_id].append(n.id)
    out: dict[int, rules.Counts] = {}

    def total(nid: int) -> rules.Counts:
        c = rules.Counts()
        for colour in rules.ORDER:
            for mid in own.get(nid, rules.Counts()).ids[colour]:
                c.add(colour, mid)
        for child in children.get(nid, []):
            sub = total(child)
            for colour in rules.ORDER:
                for mid in sub.ids[colour]:
                    c.add(colour, mid)
        out[nid] = c
        return c

    for root in children.get(None, []):
        total(root)
    return out
