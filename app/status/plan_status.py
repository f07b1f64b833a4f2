"""One plan's milestones with their 三色 status and what rides on each: the department,
days late, the latest report's words, what it holds up downstream, the standard points
its delivery would add, and counts by colour per node and per department.

Queries are per plan, not per row: milestones, dependencies, reports, notices, the
policy and the latest stored forecast run.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from flask import g, has_request_context, request
from sqlalchemy import func, select
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


def _remember_thresholds(found: dict[int, rules.Thresholds]) -> None:
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
    return _parse_forecast(run.result or {})


def _parse_forecast(result: dict) -> tuple[dict, dict, dict]:
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


def _facts(due, done, percent, pred_dues, finish, returned, open_notices) -> rules.MilestoneFacts:
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
        facts = _facts(
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


# ---------------------------------------------------------------------------
# Many plans at once (the province view): a fixed number of queries, whatever the number
# of plans, each reading plain columns; the colours still come from rules.milestone_status.


def latest_runs(plan_ids, on_or_before: date | None = None) -> dict[int, RunDigest]:
    """{plan id: digest of its latest stored run} in one query; with on_or_before, of the latest
    run whose data date is on or before that day (what app.dashboard.runs.run_known_on answers).

    Stored runs never change, so their digests are kept in the process (RUN_DIGESTS of them):
    only a run not seen before is read, with its result, in one more query."""
    if not plan_ids:
        return {}
    if on_or_before is None:
        order = (ForecastRun.computed_at.desc(), ForecastRun.id.desc())
    else:
        order = (ForecastRun.as_of.desc(), ForecastRun.computed_at.desc(), ForecastRun.id.desc())
    ranked = select(
        ForecastRun.id,
        ForecastRun.plan_id,
        ForecastRun.data_key,
        ForecastRun.computed_at,
        ForecastRun.as_of,
        ForecastRun.target_date,
        func.row_number().over(partition_by=ForecastRun.plan_id, order_by=order).label("rank"),
    ).where(ForecastRun.plan_id.in_(list(plan_ids)))
    if on_or_before is not None:
        ranked = ranked.where(ForecastRun.as_of <= on_or_before)
    ranked = ranked.subquery()
    rows = db.session.execute(select(ranked).where(ranked.c.rank == 1)).all()
    out, missing = {}, {}
    for row in rows:
        key = (row.id, row.plan_id, row.data_key, row.computed_at)
        digest = _DIGESTS.get(key)
        if digest is None:
            missing[row.id] = (key, row)
        else:
            _DIGESTS.move_to_end(key)
            out[row.plan_id] = digest
    if missing:
        for run_id, result in db.session.execute(
            select(ForecastRun.id, ForecastRun.result).where(ForecastRun.id.in_(list(missing)))
        ):
            key, row = missing[run_id]
            digest = RunDigest.of(row, result or {})
            _DIGESTS[key] = digest
            out[row.plan_id] = digest
        while len(_DIGESTS) > RUN_DIGESTS:
            _DIGESTS.popitem(last=False)
    return out


@dataclass(frozen=True)
class RunDigest:
    """What the status rules and the headline read of a stored run (app.dashboard.runs.headline
    takes it in place of the run): its result keeps only the headline's parts."""

    id: int
    plan_id: int
    as_of: date
    target_date: date
    result: dict
    finish: dict  # {milestone id: median forecast finish}

    @classmethod
    def of(cls, row, result: dict) -> RunDigest:
        fc = result.get("forecast") or {}
        kept = {k: result[k] for k in ("as_of", "target_date", "target_stars") if k in result}
        if "current" in result:
            kept["current"] = {k: result["current"].get(k) for k in ("total", "stars")}
        kept["forecast"] = {k: fc[k] for k in ("p_target", "p50", "probabilities") if k in fc}
        finish, _, _ = _parse_forecast(result)
        return cls(row.id, row.plan_id, row.as_of, row.target_date, kept, finish)


RUN_DIGESTS = 512
_DIGESTS: OrderedDict[tuple, RunDigest] = OrderedDict()


class _MilestoneRow(NamedTuple):
    id: int
    plan_id: int
    due_date: date
    status: str
    percent: int


@dataclass
class PlanCounts:
    counts: rules.Counts
    overdue: int  # open milestones past their due date


def milestone_statuses(
    plan_ids, today: date, runs: dict[int, RunDigest] | None = None, milestone_ids=None, rows=None
) -> dict[int, tuple[int, rules.Status]]:
    """{milestone id: (plan id, 三色 Status)} for the plans' milestones (only those of
    milestone_ids when given): the answer plan_status gives row by row, in six queries
    whatever the number of plans and milestones, reading plain columns. A caller that has
    just loaded those milestones passes their (id, plan id, due, status, percent) as rows."""
    plan_ids = list(plan_ids)
    if not plan_ids:
        return {}
    runs = latest_runs(plan_ids) if runs is None else runs
    policies = {
        row.plan_id: rules.Thresholds(soon_days=row.status_soon_days, behind_points=row.status_behind_points)
        for row in db.session.scalars(select(ReminderPolicy).where(ReminderPolicy.plan_id.in_(plan_ids)))
    }
    _remember_thresholds({pid: policies.get(pid, rules.Thresholds()) for pid in plan_ids})
    stmt = select(Milestone.id, Milestone.plan_id, Milestone.due_date, Milestone.status, Milestone.percent)
    deps = select(Dependency.successor_id, Milestone.due_date).join(
        Milestone, Dependency.predecessor_id == Milestone.id
    )
    reports = (
        select(ProgressReport.milestone_id)
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(ProgressReport.state == "returned")
        .distinct()
    )
    notices = (
        select(Notice.milestone_id, func.count())
        .join(Milestone, Notice.milestone_id == Milestone.id)
        .where(Notice.state.in_(OPEN_NOTICE_STATES))
        .group_by(Notice.milestone_id)
    )
    if milestone_ids is None:
        stmt = stmt.where(Milestone.plan_id.in_(plan_ids))
        deps = deps.where(Dependency.plan_id.in_(plan_ids), Milestone.plan_id == Dependency.plan_id)
        reports = reports.where(Milestone.plan_id.in_(plan_ids))
        notices = notices.where(Milestone.plan_id.in_(plan_ids))
    else:
        ids = list(milestone_ids)
        stmt = stmt.where(Milestone.plan_id.in_(plan_ids), Milestone.id.in_(ids))
        deps = deps.where(Dependency.successor_id.in_(ids), Milestone.plan_id == Dependency.plan_id)
        reports = reports.where(ProgressReport.milestone_id.in_(ids))
        notices = notices.where(Notice.milestone_id.in_(ids))
    milestones = db.session.execute(stmt).all() if rows is None else [_MilestoneRow(*r) for r in rows]
    pred_dues = defaultdict(list)
    for succ, pred_due in db.session.execute(deps):
        pred_dues[succ].append(pred_due)
    returned = set(db.session.scalars(reports))
    open_notices = dict(db.session.execute(notices).all())
    finish = {pid: run.finish for pid, run in runs.items()}
    default = rules.Thresholds()
    out = {}
    for m in milestones:
        facts = _facts(
            m.due_date,
            m.status == "done",
            m.percent,
            pred_dues.get(m.id, ()),
            finish.get(m.plan_id, {}).get(m.id),
            m.id in returned,
            open_notices.get(m.id, 0),
        )
        out[m.id] = (m.plan_id, rules.milestone_status(facts, today, policies.get(m.plan_id, default)))
    return out


def plan_counts(plan_ids, today: date, runs: dict[int, RunDigest] | None = None) -> dict[int, PlanCounts]:
    """{plan id: counts by colour and overdue} for many plans: the same answer as
    plan_status(plan).counts for each, in a fixed number of queries."""
    out = {pid: PlanCounts(rules.Counts(), 0) for pid in plan_ids}
    for mid, (plan_id, st) in milestone_statuses(list(out), today, runs).items():
        row = out[plan_id]
        row.counts.add(st.colour, mid)
        if st.days_late > 0:
            row.overdue += 1
    return out
