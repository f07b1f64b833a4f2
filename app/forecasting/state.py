"""A plan's forecast state (shared/spec/forecast.md) from the database, as known on a date.

Rules (what “known on `as_of`” means; the standard values follow known.py):
- A milestone's state on the date: its current fields when no approved lead
  report was reviewed after the date and its actual finish (if any) is not
  after it; otherwise the last approved lead report reviewed by then (claimed
  status and percent; finished on the milestone's actual finish if that is
  known by then, else on the report's review date), or not started. Its due
  date on the date ignores extensions granted later.
- Milestones are named by their key; the department is the lead department's
  name; the plans give no start (the engine estimates it from the predecessors'
  due dates); predecessors carry their lag.
- `delivers`: for every indicator the milestone is linked to that feeds a
  standard indicator, the values the milestone's targets declare for it
  (known.declared_deliveries); a link that declares none is passed with
  value null (it carries no points; the forecast lists it as an assumption).
- `indicators`: per standard number, the approved values known on the date of
  the plan indicator that feeds it (known.standard_input: a compound plan
  indicator feeds only its linked part); several plan indicators (or a 标准直填
  entry) on one number: the one known.standard_values chooses, so the latest
  value is the one every page shows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.dates import local_date
from app.engines.forecast_state import DEFAULT_SAMPLES, DEFAULT_SEED
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting import known
from app.models import Dependency, Extension, Milestone, Plan, ProgressReport

DEFAULT_TARGET_DATE = date(2021, 10, 31)  # the pilots' assessment (2021年10月)


def target_date_of(plan: Plan) -> date:
    return plan.target_date or DEFAULT_TARGET_DATE


def _due_on(m: Milestone, extensions, as_of: date) -> date:
    later = [e for e in extensions if e.created_at >= known.end_of(as_of)]
    return min(later, key=lambda e: (e.created_at, e.id)).old_due if later else m.due_date


def _state_on(m: Milestone, reports, as_of: date):
    """(status, percent, actual_finish) of a milestone on as_of (see the module docstring)."""
    end = known.end_of(as_of)
    seen = [r for r in reports if r.reviewed_at is not None and r.reviewed_at < end]
    if len(seen) == len(reports) and (m.actual_finish is None or m.actual_finish <= as_of):
        return m.status, m.percent, m.actual_finish
    if not seen:
        return "not_started", 0, None
    last = seen[-1]
    if last.claimed_status != "done":
        return last.claimed_status, last.percent, None
    finish = m.actual_finish if m.actual_finish and m.actual_finish <= as_of else local_date(last.reviewed_at)
    return "done", last.percent, finish


def _iso(day):
    return day.isoformat() if day else None


def plan_milestones(plan: Plan) -> list[Milestone]:
    """In a fixed order (by id), so that granting an extension changes the dates a forecast
    reads but not which random draws each milestone gets."""
    return db.session.scalars(
        select(Milestone)
        .where(Milestone.plan_id == plan.id)
        .options(selectinload(Milestone.lead_department), selectinload(Milestone.indicators))
        .order_by(Milestone.id)
    ).all()


def _milestone_rows(plan: Plan, as_of: date, std_numbers: set) -> list[dict]:
    milestones = plan_milestones(plan)
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
    deps = db.session.scalars(
        select(Dependency).where(Dependency.plan_id == plan.id).order_by(Dependency.id)
    ).all()
    key_of = {m.id: m.key for m in milestones}
    preds = defaultdict(list)
    for d in deps:
        preds[d.successor_id].append(d)
    rows = []
    for m in milestones:
        status, percent, finish = _state_on(m, reports[m.id], as_of)
        due = _due_on(m, extensions[m.id], as_of)
        delivers = []
        for ind in sorted(m.indicators, key=lambda i: (i.position, i.id)):
            number = ind.standard_indicator
            if number not in std_numbers or known.is_direct(ind):
                continue
            values = known.declared_deliveries(m, ind, as_of)
            delivers += [{"indicator": number, "value": v} for v in values] or [
                {"indicator": number, "value": None}
            ]
        rows.append(
            {
                "id": m.key,
                "title": m.title,
                "department": m.lead_department.name,
                "start": None,  # the plans give none: the engine estimates it
                "due": due.isoformat(),
                "finished": _iso(finish) if status == "done" else None,
                "percent": 100 if status == "done" else int(percent or 0),
                "predecessors": [
                    {"id": key_of[d.predecessor_id], "lag_days": d.lag_days}
                    for d in preds[m.id]
                    if d.predecessor_id in key_of
                ],
                "delivers": delivers,
            }
        )
    return rows


def _indicator_series(plan: Plan, as_of: date) -> tuple[dict, dict]:
    """({number: [{date, value}]}, {number: source}) known on as_of: for each standard
    number, the series of the plan indicator known.standard_series chose for it (so the
    latest value here is the one every page shows)."""
    _, sources, series = known.standard_series(plan, as_of)
    out = {
        number: [{"date": row.as_of.isoformat(), "value": value} for row, value in series[number]]
        for number in sorted(series, key=int)
    }
    return out, sources


def build_state(
    plan: Plan,
    as_of: date,
    target: date | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> tuple[dict, dict]:
    """(the JSON state of the plan known on as_of, the source of each standard number's values)."""
    if not plan.standard_code:
        raise ValueError(f"计划 {plan.code} 未指定评价标准")
    std = load_standard(plan.standard_code)
    numbers = {i["number"] for i in std["indicators"]}
    indicators, sources = _indicator_series(plan, as_of)
    state = {
        "standard": plan.standard_code,
        "as_of": as_of.isoformat(),
        "target_date": (target or target_date_of(plan)).isoformat(),
        "target_stars": plan.target_stars or 4,
        "samples": samples,
        "seed": seed,
        "milestones": _milestone_rows(plan, as_of, numbers),
        "indicators": indicators,
    }
    return state, sources


def latest_values(state: dict) -> dict:
    """The values object (scoring.md) of a state's latest measurements."""
    return {number: rows[-1]["value"] for number, rows in state["indicators"].items()}
