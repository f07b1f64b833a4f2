"""Several workers: make run starts FORECAST_WORKERS of them (each one process, restarted
on its own), and `python -m workflows.worker --workers N` runs N that share the queue."""

import os
import subprocess
import sys
from pathlib import Path

from rq.serializers import JSONSerializer  # noqa: F401  (the workers' serializer)
from sqlalchemy import func, select

from app.extensions import db
from app.models import ForecastRun, Plan
from scripts import run_dev
from tests.factories import build_world
from workflows.forecast_recompute import refresh_all
from workflows.queue import get_queue, redis_url

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_starts_the_configured_number_of_workers(monkeypatch):
    monkeypatch.setenv("FORECAST_WORKERS", "3")
    count = run_dev.worker_count([])
    assert count == 3
    cmds = run_dev.commands("127.0.0.1", "5000", count)
    assert [n for n in cmds if n.startswith("worker")] == ["worker", "worker-2", "worker-3"]
    assert all(cmds[n][-2:] == ["--workers", "1"] for n in run_dev.worker_names(3))  # no nesting
    assert run_dev.worker_count(["--workers", "2"]) == 2
    monkeypatch.delenv("FORECAST_WORKERS")
    assert run_dev.worker_count([]) == 1


def test_several_workers_run_blas_on_one_thread_each_unless_told():
    from workflows.worker import one_thread_each

    env = one_thread_each({"OMP_NUM_THREADS": "2", "PATH": "/bin"})
    assert env["OMP_NUM_THREADS"] == "2" and env["OPENBLAS_NUM_THREADS"] == "1" and env["PATH"] == "/bin"


def test_two_worker_processes_recompute_the_changed_plans_once_each(app, ctx, tmp_path):
    """Real `python -m workflows.worker --workers 2 --burst` on the test database and Redis."""
    build_world()
    plans = db.session.scalars(select(Plan)).all()
    for plan in plans:
        plan.standard_code = "sd-city-2019"
    db.session.commit()
    ids = [p.id for p in plans]
    assert refresh_all()["queued"] == len(ids)
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(get_queue("default").connection),
        "STARPATH_AS_OF": "2021-03-15",
        "FORECAST_WORKERS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "workflows.worker", "default", "--workers", "2", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    db.session.expire_all()
    counts = dict(
        db.session.execute(select(ForecastRun.plan_id, func.count()).group_by(ForecastRun.plan_id)).all()
    )
    assert counts == {i: 1 for i in ids}
    assert refresh_all()["queued"] == 0
    assert len(get_queue("default").failed_job_registry) == 0
