"""The forecast's inputs from the database, with only what was known on a date:
milestone state rebuilt from approvals reviewed by then, due dates before later
extensions, department on-time records, indicator histories and deliveries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from difflib import SequenceMatcher

from sqlalchemy import select

from app.engines.forecast import DependencyData, ForecastInputs, IndicatorData, MilestoneData
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.known import DELIVERING_OPS, end_of, is_direct, known_values, plan_indicators, value_of
from app.models import Dependency, Extension, Indicator, Milestone, Plan, ProgressReport


def _due_on(m: Milestone, extensions, as_of: date) -> date:
    later = [e for e in extensions if e.created_at >= end_of(as_of)]
    return min(later, key=lambda e: (e.created_at, e.id)).old_due if later else m.due_date


def _state_on(m: Milestone, reports, as_of: date):
    """(status, percent, actual_finish) of a milestone on as_of (see the module docstring)."""
    end = end_of(as_of)
    known = [r for r in reports if r.reviewed_at is not None and r.reviewed_at < end]
    if len(known) == len(reports) and (m.actual_finish is None or m.actual_finish <= as_of):
        return m.status, m.percent, m.actual_finish
    if not known:
        return "not_started", 0, None
    last = known[-1]
    if last.claimed_status != "done":
        return last.claimed_status, last.percent, None
    finish = m.actual_finish if m.actual_finish and m.actual_finish <= as_of else last.reviewed_at.date()
    return "done", last.percent, finish


def delivered_value(targets, ind: Indicator):
    """The value a milestone linked to `ind` delivers to it.

    Among the milestone's targets in the indicator's unit, the one whose metric
    shares the longest run of characters with the indicator's name; if none is in
    that unit (or it states no number), the indicator's four-star value; None for
    a descriptive indicator (no four-star value).
    """
    same = [t for t in targets or [] if t.get("unit") == ind.unit and t.get("value") is not None]
    same = [t for t in same if t.get("op") in DELIVERING_OPS]
    if same:

        def overlap(t):
            a, b = t.get("metric") or "", ind.name
            return SequenceMatcher(None, a, b).find_longest_match(0, len(a), 0, len(b)).size

        return max(same, key=overlap)["value"]  # max keeps the first of equals
    return ind.four_star_value


def _bounds(ind: Indicator, spec):
    if ind.unit == "%":
        return 0, 100
    if spec and spec["input"] == "rank":
        return 1, None
    return 0, None


def forecast_inputs(plan: Plan, as_of: date) -> ForecastInputs:
    """ForecastInputs for app.engines.forecast with only what was known on as_of."""
    if not plan.standard_code:
        raise ValueError(f"计划 {plan.code} 未指定评价标准")
    std = load_standard(plan.standard_code)
    specs = {i["number"]: i for i in std["indicators"]}
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.plan_id == plan.id).order_by(Milestone.due_date, Milestone.id)
    ).all()
    reports, extensions = defaultdict(list), defaultdict(list)
    for r in db.session.scalars(
        select(ProgressReport)
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id, ProgressReport.kind == "lead", ProgressReport.state == "approved"
        )
        .order_by(ProgressReport.reviewed_at, ProgressReport.id)
    ):
        reports[r.milestone_id].append(r)
    for e in db.session.scalars(select(Extension).join(Milestone).where(Milestone.plan_id == plan.id)):
        extensions[e.milestone_id].append(e)

    data, departments = [], defaultdict(lambda: [0, 0])
    for m in milestones:
        due = _due_on(m, extensions[m.id], as_of)
        status, percent, finish = _state_on(m, reports[m.id], as_of)
        record = departments[m.lead_department_id]
        if status == "done" and finish is not None:
            record[0 if finish <= due else 1] += 1
        elif status != "done" and due < as_of:
            record[1] += 1  # overdue and still open on the date: late
        data.append(
            MilestoneData(
                id=m.id,
                title=m.title,
                due=due,
                status=status,
                percent=percent,
                actual_finish=finish,
                baseline_due=m.baseline_due_date,
                department_id=m.lead_department_id,
            )
        )
    deps = db.session.scalars(
        select(Dependency).where(Dependency.plan_id == plan.id).order_by(Dependency.id)
    ).all()

    inds = plan_indicators(plan)
    history = known_values([i.id for i in inds], as_of)
    in_plan = {m.id for m in milestones}
    indicators, direct = [], {}
    for ind in inds:
        rows = history.get(ind.id, [])
        if is_direct(ind):
            if rows:
                direct[ind.standard_indicator] = value_of(rows[-1])
            continue
        number = ind.standard_indicator
        lower, upper = _bounds(ind, specs.get(number))
        linked = sorted((m for m in ind.milestones if m.id in in_plan), key=lambda m: (m.due_date, m.id))
        indicators.append(
            IndicatorData(
                id=ind.id,
                name=ind.name,
                standard_number=number,
                history=tuple((r.as_of, value_of(r)) for r in rows),
                lower=lower,
                upper=upper,
                deliveries=tuple((m.id, delivered_value(m.targets, ind)) for m in linked),
                target_op=ind.four_star_op if ind.four_star_value is not None else None,
                target_value=ind.four_star_value,
            )
        )
    return ForecastInputs(
        standard=plan.standard_code,
        milestones=data,
        dependencies=[DependencyData(d.predecessor_id, d.successor_id, d.lag_days) for d in deps],
        departments={k: tuple(v) for k, v in departments.items()},
        indicators=indicators,
        standard_values=direct,
        target_stars=plan.target_stars or 4,
    )
