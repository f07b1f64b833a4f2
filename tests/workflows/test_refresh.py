"""The hourly refresh: an unchanged plan (same data_version, same clock date) is skipped
by refresh_all and by the job without gathering its inputs; a changed plan, or a new
clock date, is recomputed; two workers racing on one plan store one run."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.forecasting import snapshot
from app.models import ForecastRun, Milestone, Plan, ProgressReport, User
from tests.factories import build_world
from workflows import forecast_recompute, review
from workflows.forecast_recompute import job_id, recompute_forecast, refresh_all
from workflows.queue import get_queue

SAMPLES = 400  # small runs: these tests are about when to compute, not what


@pytest.fixture
def plan_id(ctx, monkeypatch):
    monkeypatch.setattr(snapshot, "SAMPLES", SAMPLES)
    monkeypatch.setattr(snapshot.store_snapshot, "__defaults__", (SAMPLES,))
    monkeypatch.setattr(snapshot.is_current, "__defaults__", (SAMPLES,))
    monkeypatch.setattr(snapshot.plans_to_recompute, "__defaults__", (SAMPLES,))
    build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    db.session.commit()
    return plan.id


@pytest.fixture
def gathered(monkeypatch):
    """Counts calls of snapshot.gather (the expensive read of every input)."""
    calls = []
    real = snapshot.gather

    def counting(plan, as_of, *args, **kwargs):
        calls.append(plan.id)
        return real(plan, as_of, *args, **kwargs)

    monkeypatch.setattr(snapshot, "gather", counting)
    return calls


def _runs(plan_id):
    return db.session.scalar(
        select(func.count()).select_from(ForecastRun).where(ForecastRun.plan_id == plan_id)
    )


def _queued():
    return get_queue("default").job_ids


def _approve_a_report(plan_id):
    m = db.session.scalar(select(Milestone).where(Milestone.plan_id == plan_id, Milestone.key == "m1"))
    police = db.session.scalar(select(User).where(User.username == "police"))
    r = ProgressReport(
        milestone=m,
        department_id=police.department_id,
        author_id=police.id,
        kind="lead",
        text="平台已上线",
        percent=100,
        claimed_status="done",
        state="draft",
    )
    db.session.add(r)
    review.submit(r, police)
    review.approve(r, db.session.scalar(select(User).where(User.username == "office")))
    db.session.commit()


def test_unchanged_plan_is_skipped_by_refresh_and_by_the_job(plan_id, gathered):
    assert refresh_all()["queued"] == 1  # never computed
    assert _queued() == [job_id(plan_id)]
    get_queue("default").empty()
    assert recompute_forecast(plan_id)["stored"] is True
    assert gathered == [plan_id]
    run = db.session.scalar(select(ForecastRun).where(ForecastRun.plan_id == plan_id))
    assert run.data_version == db.session.get(Plan, plan_id).data_version
    assert run.engine_version == snapshot.ENGINE_VERSION

    assert refresh_all()["queued"] == 0
    assert _queued() == []
    assert recompute_forecast(plan_id) == {"plan_id": plan_id, "stored": False, "reason": "unchanged"}
    assert gathered == [plan_id]  # the job returned before gathering anything
    assert _runs(plan_id) == 1


def test_changed_plan_is_recomputed(plan_id, gathered):
    recompute_forecast(plan_id)
    _approve_a_report(plan_id)
    get_queue("default").empty()  # the approval's own request; the refresh must find it too
    assert snapshot.plans_to_recompute(date(2021, 3, 15)) == [plan_id]
    assert refresh_all()["queued"] == 1
    assert recompute_forecast(plan_id)["stored"] is True
    assert len(gathered) == 2 and _runs(plan_id) == 2
    latest = snapshot.latest_run(db.session.get(Plan, plan_id))
    assert latest.result["graph"]["milestones"][str(latest.result["keys"]["m1"])]["status"] == "done"
    assert refresh_all()["queued"] == 0


def test_a_bump_with_the_same_data_stamps_the_run_without_storing_another(plan_id, gathered):
    recompute_forecast(plan_id)
    m = db.session.scalar(select(Milestone).where(Milestone.plan_id == plan_id, Milestone.key == "m1"))
    old = m.due_date
    m.due_date = date(2021, 4, 30)
    db.session.commit()
    m.due_date = old  # and back: a new version, the same data
    db.session.commit()
    result = recompute_forecast(plan_id)
    assert result["stored"] is False and "reason" not in result
    assert len(gathered) == 2 and _runs(plan_id) == 1
    assert refresh_all()["queued"] == 0  # stamped with the new version


def test_a_new_clock_date_recomputes(app, plan_id, gathered):
    recompute_forecast(plan_id)
    app.config["STARPATH_AS_OF"] = date(2021, 3, 16)
    try:
        assert refresh_all()["queued"] == 1
        assert recompute_forecast(plan_id)["stored"] is True
        assert refresh_all()["queued"] == 0
    finally:
        app.config["STARPATH_AS_OF"] = date(2021, 3, 15)
    assert len(gathered) == 2 and _runs(plan_id) == 2


def test_an_older_engine_run_is_recomputed(plan_id, gathered):
    recompute_forecast(plan_id)
    run = db.session.scalar(select(ForecastRun).where(ForecastRun.plan_id == plan_id))
    run.engine_version = snapshot.ENGINE_VERSION - 1
    db.session.commit()
    assert refresh_all()["queued"] == 1
    recompute_forecast(plan_id)
    assert refresh_all()["queued"] == 0


def test_two_workers_on_one_plan_store_one_run(app, plan_id, monkeypatch):
    """Both gather before either stores (a barrier in gather); the unique data_key lets
    only one insert win, the other returns the winner's run."""
    barrier = threading.Barrier(2, timeout=30)
    real = snapshot.gather

    def gather_together(*args, **kwargs):
        g = real(*args, **kwargs)
        barrier.wait()
        return g

    monkeypatch.setattr(snapshot, "gather", gather_together)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                results.append(forecast_recompute.recompute_forecast(plan_id))
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(r["stored"] for r in results) == [False, True]
    assert results[0]["run_id"] == results[1]["run_id"]
    db.session.expire_all()
    assert _runs(plan_id) == 1
