"""Recompute a plan's stored forecast when its data change.

request_recompute(plan_id) is called after a commit that approves a report or
an indicator value (or changes dates, dependencies or costs); it queues one job
per plan (a job still waiting is reused). The job reads the database as of the
clock date and stores a ForecastRun unless the same data were already computed,
so running it twice, or after Redis lost it, is harmless.
"""

from __future__ import annotations

import logging

from app import clock
from app.extensions import db
from app.models import Plan
from workflows.queue import enqueue_quietly

log = logging.getLogger(__name__)

JOB = "workflows.forecast_recompute.recompute_forecast"


def job_id(plan_id: int) -> str:
    return f"forecast-recompute-{plan_id}"


def request_recompute(plan_id: int):
    """Queue the plan's recompute (after the caller's commit); None if Redis is down."""
    return enqueue_quietly(
        JOB,
        plan_id,
        queue="default",
        timeout=600,
        title=f"重新测算计划 {plan_id} 的星级",
        job_id=job_id(plan_id),
    )


def recompute_forecast(plan_id: int) -> dict:
    """The job: store the plan's forecast for the clock date. Returns a small summary."""
    from app.forecasting.snapshot import store_snapshot

    plan = db.session.get(Plan, plan_id)
    if plan is None or not plan.standard_code:
        return {"plan_id": plan_id, "stored": False, "reason": "no such plan or no standard"}
    run, new = store_snapshot(plan, clock.today())
    log.info("forecast for %s: run %s (%s)", plan.code, run.id, "new" if new else "unchanged")
    return {"plan_id": plan_id, "run_id": run.id, "stored": new}


def refresh_all() -> dict:
    """The periodic job: queue a recompute for every plan with a standard (a new clock
    date changes what is overdue; a recompute with unchanged data stores nothing)."""
    from sqlalchemy import select

    ids = db.session.scalars(select(Plan.id).where(Plan.standard_code.is_not(None)).order_by(Plan.id)).all()
    for plan_id in ids:
        request_recompute(plan_id)
    return {"queued": len(ids)}
