"""A plan's full star picture as one JSON document, and storing it as a ForecastRun.

compute_snapshot() reads the database (as known on the clock date) and runs the
pure engines: score + explanation, gap to the next star, what holds the band,
the Monte Carlo forecast, the milestone graph (forecast finish, slack, critical
path) and, where the plan has target tables, target attainment. store_snapshot()
writes it unless an identical computation (same data_key) is already stored.
Pages read the stored row only; computing happens in the recompute job.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.engines.forecast import DEFAULT_SEED, forecast
from app.engines.gap import gap_to_next_star, what_holds_our_band
from app.engines.graph import build_graph
from app.engines.schedule import plan_schedule
from app.engines.scoring import explain
from app.extensions import db
from app.forecasting.attainment import attainment
from app.forecasting.known import end_of, plan_indicators, standard_values
from app.forecasting.state import forecast_inputs
from app.models import ForecastRun, IndicatorValue, Milestone, Plan, ProgressReport

DEFAULT_TARGET_DATE = date(2021, 10, 31)  # the pilots' assessment (2021年10月)
SAMPLES = 10000


def target_date_of(plan: Plan) -> date:
    return plan.target_date or DEFAULT_TARGET_DATE


def _plain(obj):
    """JSON-ready copy (dates as ISO strings, tuples as lists, keys as strings)."""
    return json.loads(json.dumps(obj, ensure_ascii=False, default=str))


def _key(*parts) -> str:
    blob = json.dumps(_plain(parts), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def graph_summary(inputs, target: date, as_of: date, finish=None) -> dict:
    """The milestone graph on as_of: forecast finish, slack, lateness and the critical path,
    decided by app.engines.schedule. `finish` (milestone id -> date) feeds the forecast
    engine's own finish dates in; by default graph.forecast_finish(graph, as_of)."""
    graph = build_graph(inputs.milestones, inputs.dependencies)
    sched = plan_schedule(graph, as_of, target, finish)
    return {
        "target_date": target,
        "critical_path": sched.critical_path,
        "milestones": {
            str(m.id): {
                "id": m.id,
                "title": m.title,
                "status": m.status,
                "percent": m.percent,
                "due": m.due,
                "department_id": m.department_id,
                "forecast_finish": sched[m.id].forecast_finish,
                "slack_days": sched[m.id].slack_days,
                "overdue": sched[m.id].overdue,
                "late": sched[m.id].late,
                "critical": sched[m.id].critical,
            }
            for m in inputs.milestones
        },
        "edges": [{"pred": d.pred, "succ": d.succ, "lag_days": d.lag_days} for d in inputs.dependencies],
    }


def data_time(plan: Plan, as_of: date):
    """When the newest approval the computation could see was recorded."""
    cutoff = end_of(as_of)
    reports = db.session.scalar(
        select(func.max(ProgressReport.reviewed_at))
        .join(Milestone)
        .where(
            Milestone.plan_id == plan.id,
            ProgressReport.state == "approved",
            ProgressReport.reviewed_at <= cutoff,
        )
    )
    ids = [i.id for i in plan_indicators(plan)]
    values = None
    if ids:
        values = db.session.scalar(
            select(func.max(func.coalesce(IndicatorValue.reviewed_at, IndicatorValue.created_at))).where(
                IndicatorValue.indicator_id.in_(ids),
                IndicatorValue.state == "approved",
                func.coalesce(IndicatorValue.reviewed_at, IndicatorValue.created_at) <= cutoff,
            )
        )
    known = [t for t in (reports, values) if t is not None]
    return max(known) if known else None


@dataclass
class Gathered:
    """What a snapshot is computed from, and the fingerprint of all of it."""

    plan: Plan
    as_of: date
    target: date
    values: dict
    sources: dict
    inputs: object  # ForecastInputs
    costs: dict
    samples: int
    seed: int
    key: str


def gather(plan: Plan, as_of: date, samples: int = SAMPLES, seed: int = DEFAULT_SEED) -> Gathered:
    """Read the inputs (database, as known on as_of); raises ValueError without a standard."""
    if not plan.standard_code:
        raise ValueError(f"计划 {plan.code} 未指定评价标准")
    target = target_date_of(plan)
    values, sources = standard_values(plan, as_of)
    inputs = forecast_inputs(plan, as_of)
    costs = plan.step_costs or {}
    key = _key(plan.standard_code, values, asdict(inputs), costs, as_of, target, samples, seed)
    return Gathered(plan, as_of, target, values, sources, inputs, costs, samples, seed, key)


def evaluate(g: Gathered) -> dict:
    """Run the engines on gathered inputs: the JSON-ready result."""
    std = g.plan.standard_code
    result = {
        "plan": g.plan.code,
        "standard": std,
        "as_of": g.as_of,
        "target_date": g.target,
        "target_stars": g.inputs.target_stars,
        "values": g.values,
        "sources": g.sources,
        "current": explain(std, g.values),
        "gap": gap_to_next_star(std, g.values, g.costs),
        "holds": what_holds_our_band(std, g.values),
        "forecast": forecast(g.inputs, g.target, g.as_of, samples=g.samples, seed=g.seed),
        "graph": graph_summary(g.inputs, g.target, g.as_of),
        "attainment": attainment(g.plan, g.as_of) if _has_targets(g.plan) else None,
    }
    return _plain(result)


def compute_snapshot(plan: Plan, as_of: date, samples: int = SAMPLES, seed: int = DEFAULT_SEED):
    """(result dict, data_key) for the plan on as_of; raises ValueError without a standard."""
    g = gather(plan, as_of, samples, seed)
    return evaluate(g), g.key


def _has_targets(plan: Plan) -> bool:
    return any(i.four_star_value is not None or i.four_star_target for i in plan_indicators(plan))


def latest_run(plan: Plan) -> ForecastRun | None:
    return db.session.scalar(
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan.id)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


def _run_with_key(plan: Plan, key: str) -> ForecastRun | None:
    return db.session.scalar(
        select(ForecastRun).where(ForecastRun.plan_id == plan.id, ForecastRun.data_key == key)
    )


def store_snapshot(plan: Plan, as_of: date, samples: int = SAMPLES) -> tuple[ForecastRun, bool]:
    """(the stored run, whether it is new). Commits: this is a job boundary."""
    started = time.perf_counter()
    g = gather(plan, as_of, samples)
    key = g.key
    existing = _run_with_key(plan, key)
    if existing is not None:  # same data: the engines need not run again
        latest = latest_run(plan)
        if latest is not None and latest.id != existing.id:  # the data went back to an earlier state
            existing.computed_at = utcnow()
            db.session.commit()
        return existing, False
    result = evaluate(g)
    run = ForecastRun(
        plan_id=plan.id,
        as_of=as_of,
        target_date=target_date_of(plan),
        data_time=data_time(plan, as_of),
        data_key=key,
        duration_ms=round((time.perf_counter() - started) * 1000),
        samples=samples,
        result=result,
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent recompute stored the same data first
        db.session.rollback()
        return _run_with_key(plan, key), False
    return run, True
