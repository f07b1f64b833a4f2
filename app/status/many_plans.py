"""三色 status for many plans at once (我的工作, the province view, the API, the stored
counts): a fixed number of queries whatever the number of plans and milestones, each reading
plain columns; the colours still come from app.engines.status.milestone_status with the
facts app.status.plan_status builds, so every page answers the same.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, select

from app.engines import status as rules
from app.extensions import db
from app.models import Dependency, ForecastRun, Milestone, Notice, ProgressReport, ReminderPolicy
from app.status.plan_status import OPEN_NOTICE_STATES, milestone_facts, parse_forecast, remember_thresholds


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
        finish, _, _ = parse_forecast(result)
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
    remember_thresholds({pid: policies.get(pid, rules.Thresholds()) for pid in plan_ids})
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
        facts = milestone_facts(
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
