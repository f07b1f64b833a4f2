"""Engine inputs from the database, as known on a date (models only, no request machinery).

Rules (what "known on `as_of`" means):
- An indicator value counts when it is approved, its `as_of` is on or before the
  date, and it was reviewed (else created) before the end of that date. The
  latest such value wins (by as_of, then review time, then id); `value_json`
  if set, else `value_number`.
- A milestone's state on the date: its current fields when no approved lead
  report was reviewed after the date and its actual finish (if any) is not
  after it; otherwise the last approved lead report reviewed by then
  (claimed status and percent; finished on the milestone's actual finish if
  that is known by then, else on the report's review date), or not started.
  Its due date on the date ignores extensions granted later.
- Direct entries for standard indicators the plan does not track are Indicator
  rows with key `std-<number>` in table 标准直填, holding approved values
  stamped as reviewed now, but not after the clock's date.
- Department on-time records on the date: done milestones finished by their due
  date are on time; done late, or still open past their due date, are late.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from difflib import SequenceMatcher

from sqlalchemy import func, select

from app import audit, clock
from app.engines.forecast import DependencyData, ForecastInputs, IndicatorData, MilestoneData
from app.engines.scoring import ScoringError, score
from app.engines.standards import load_standard
from app.extensions import db
from app.models import Dependency, Extension, Indicator, IndicatorValue, Milestone, Plan, ProgressReport

DIRECT_TABLE = "标准直填"
DIRECT_PREFIX = "std-"
DIRECT_POSITION = 100000
DELIVERING_OPS = (">=", ">", "==", "<=", "<")


def end_of(day: date) -> datetime:
    """The first instant after `day` (reviews strictly before it are known on the day)."""
    return datetime.combine(day + timedelta(days=1), time())


def is_direct(ind: Indicator) -> bool:
    return ind.key.startswith(DIRECT_PREFIX) and ind.table_name == DIRECT_TABLE


def value_of(row: IndicatorValue):
    return row.value_json if row.value_json is not None else row.value_number


def known_values(indicator_ids, as_of: date) -> dict[int, list[IndicatorValue]]:
    """Approved values known on as_of, per indicator, oldest first."""
    if not indicator_ids:
        return {}
    rows = db.session.scalars(
        select(IndicatorValue)
        .where(
            IndicatorValue.indicator_id.in_(list(indicator_ids)),
            IndicatorValue.state == "approved",
            IndicatorValue.as_of <= as_of,
            func.coalesce(IndicatorValue.reviewed_at, IndicatorValue.created_at) < end_of(as_of),
        )
        .order_by(IndicatorValue.as_of, IndicatorValue.reviewed_at, IndicatorValue.id)
    )
    out = defaultdict(list)
    for row in rows:
        if value_of(row) is not None:
            out[row.indicator_id].append(row)
    return out


def plan_indicators(plan: Plan) -> list[Indicator]:
    """The plan's indicators, tracked ones first (by position), direct entries last."""
    rows = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position, Indicator.id)
    ).all()
    return sorted(rows, key=is_direct)


def _points(std, number, value):
    return score(std, {number: value})["indicators"][number]["points"]


def standard_values(plan: Plan, as_of: date) -> tuple[dict, dict]:
    """(values object for the plan's standard, sources per standard number) known on as_of.

    Several indicators on one number: the one scoring more points (ties: tracked
    before direct, then plan order). Values the engine rejects are skipped.
    """
    if not plan.standard_code:
        return {}, {}
    std = load_standard(plan.standard_code)
    known = {i["number"] for i in std["indicators"]}
    inds = [i for i in plan_indicators(plan) if i.standard_indicator in known]
    latest = {k: rows[-1] for k, rows in known_values([i.id for i in inds], as_of).items()}
    values, sources = {}, {}
    for ind in inds:
        row, number = latest.get(ind.id), ind.standard_indicator
        if row is None:
            continue
        try:
            points = _points(std, number, value_of(row))
        except ScoringError:
            continue
        if number in sources and sources[number]["points"] >= points:
            continue
        values[number] = value_of(row)
        sources[number] = {
            "indicator_id": ind.id,
            "indicator_key": ind.key,
            "indicator_name": ind.name,
            "value_id": row.id,
            "as_of": row.as_of.isoformat(),
            "direct": is_direct(ind),
            "points": points,
        }
    return values, sources


def set_direct_value(plan: Plan, number: str, value, user, as_of: date) -> IndicatorValue:
    """Record an approved direct value for a standard indicator the plan does not track (no commit)."""
    if not plan.standard_code:
        raise ValueError(f"计划 {plan.code} 未指定评价标准")
    std = load_standard(plan.standard_code)
    number = str(number)
    spec = next((i for i in std["indicators"] if i["number"] == number), None)
    if spec is None:
        raise ValueError(f"标准 {std['code']} 中没有第 {number} 项")
    inds = plan_indicators(plan)
    if any(i.standard_indicator == number and not is_direct(i) for i in inds):
        raise ValueError(f"标准第 {number} 项已由计划指标跟踪，请录入该指标的数值")
    points = _points(std, number, value)  # raises ScoringError (a ValueError) on a bad value
    ind = next((i for i in inds if i.key == DIRECT_PREFIX + number), None)
    if ind is None:
        ind = Indicator(
            plan_id=plan.id,
            key=DIRECT_PREFIX + number,
            table_name=DIRECT_TABLE,
            category=spec["category"],
            number=number,
            name=spec["name"],
            definition=spec["description"],
            unit=spec["unit"],
            star=spec["star"],
            standard_indicator=number,
            position=DIRECT_POSITION + int(number),
        )
        db.session.add(ind)
        db.session.flush()
    row = IndicatorValue(
        indicator_id=ind.id,
        as_of=as_of,
        value_number=None if isinstance(value, dict) else float(value),
        value_json=value if isinstance(value, dict) else None,
        source=DIRECT_TABLE,
        state="approved",
        entered_by_id=getattr(user, "id", None),
        reviewed_by_id=getattr(user, "id", None),
        reviewed_at=clock.event_time(),
    )
    db.session.add(row)
    event = audit.record(
        user,
        "indicator.direct_value",
        row,
        f"直接录入标准第 {number} 项（{spec['name']}）：{value}（{points} 分）",
        after={"number": number, "value": value, "as_of": as_of.isoformat()},
    )
    event.region_id = plan.region_id
    return row


# -- forecast inputs --------------------------------------------------------------


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
