"""Recompute a plan's stored forecast when its data change.

request_recompute(plan_id) is called after a commit that approves a report or
an indicator value (or changes dates, dependencies or costs); it queues one job
per plan (a job still waiting is reused). The job reads the database as of the
clock date and stores a ForecastRun unless the same data were already computed,
so running it twice, or after Redis lost it, is harmless.

A plan is unchanged when its latest run has the plan's data_version (bumped with
every change that can move the forecast, app/plan_versions) and the clock date
as as_of: refresh_all finds the others in one query and queues only those, and
the job returns at once for an unchanged plan, before gathering any input. Two
workers on one plan cannot store two runs of the same data (unique data_key).
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
    from app.forecasting.snapshot import is_current, store_snapshot

    plan = db.session.get(Plan, plan_id)
    if plan is None:
        return {"plan_id": plan_id, "stored": False, "reason": "no such plan or no standard"}
    today = clock.today()
    if not plan.standard_code:
        _refresh_counts(plan_id, today)
        return {"plan_id": plan_id, "stored": False, "reason": "no such plan or no standard"}
    if is_current(plan_id, today):
        _refresh_counts(plan_id, today)
        return {"plan_id": plan_id, "stored": False, "reason": "unchanged"}
    run, new = store_snapshot(plan, today)
    log.info("forecast for %s: run %s (%s)", plan.code, run.id, "new" if new else "unchanged")
    _refresh_counts(plan_id, today)
    return {"plan_id": plan_id, "run_id": run.id, "stored": new}


def _refresh_counts(plan_id: int, today) -> None:
    """The plan's stored 三色 counts (province view) after the job looked at it; only when
    missing or stale (a new run, a new day, a change)."""
    from app.status.stored_counts import refresh_stale

    refresh_stale(today, [plan_id])


def refresh_all() -> dict:
    """The periodic job: queue a recompute for every plan with a standard whose latest
    run is not of its current data version and the clock date (a new clock date changes
    what is overdue), found in one query; unchanged plans cost nothing more."""
    from app.forecasting.snapshot import plans_to_recompute
    from app.status.stored_counts import refresh_stale, stale_plan_ids

    today = clock.today()
    ids = plans_to_recompute(today)
    for plan_id in ids:
        request_recompute(plan_id)
    # the stored 三色 counts of the plans no job will look at (each job refreshes its own)
    queued = set(ids)
    counted = refresh_stale(today, [i for i in stale_plan_ids(today) if i not in queued])
    return {"queued": len(ids), "counts_refreshed": counted}
