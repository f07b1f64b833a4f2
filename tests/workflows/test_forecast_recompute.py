"""Approving a report queues one recompute per plan; a real rq worker stores the forecast."""

from redis import Redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import ForecastRun, Milestone, Plan, ProgressReport, User
from tests.conftest import hidden, login
from tests.factories import build_world
from workflows import review
from workflows.forecast_recompute import job_id, request_recompute
from workflows.queue import get_queue, redis_connection


def _world_with_standard():
    world = build_world()
    plan = db.session.scalar(select(Plan).where(Plan.code == "plan-a"))
    plan.standard_code = "sd-city-2019"
    db.session.commit()
    return world, plan.id


def _submitted_report(world):
    police = db.session.get(User, world["police"])
    m = db.session.get(Milestone, world["m_police"])
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
    db.session.commit()
    return r.id


def _drain(app):
    conn = redis_connection(app)
    SimpleWorker([get_queue("default", conn)], connection=conn, serializer=JSONSerializer).work(burst=True)


def _runs(plan_id):
    return db.session.scalar(
        select(func.count()).select_from(ForecastRun).where(ForecastRun.plan_id == plan_id)
    )


def test_approval_queues_one_recompute_and_the_worker_stores_it(app, client):
    with app.app_context():
        world, plan_id = _world_with_standard()
        report_id = _submitted_report(world)
    login(client, "office")
    url = f"/review/reports/{report_id}"
    response = client.post(
        f"{url}/approve",
        data={
            "csrf_token": hidden(client, url, "csrf_token"),
            "version": hidden(client, url, "version"),
            "milestone_version": hidden(client, url, "milestone_version"),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        queue = get_queue("default")
        assert queue.job_ids == [job_id(plan_id)]
        request_recompute(plan_id)  # a second change before the worker runs: still one job
        assert queue.job_ids == [job_id(plan_id)]
        assert _runs(plan_id) == 0  # nothing computed in the request
        _drain(app)
        assert _runs(plan_id) == 1
        run = db.session.scalar(select(ForecastRun).where(ForecastRun.plan_id == plan_id))
        assert run.data_time is not None and run.as_of.isoformat() == "2021-03-15"
        done = run.result["graph"]["milestones"][str(world["m_police"])]
        assert done["status"] == "done"
        assert len(run.result["forecast"]["probabilities"]) == 6

        request_recompute(plan_id)  # same data: the job runs and stores nothing new
        _drain(app)
        assert _runs(plan_id) == 1


def test_approval_succeeds_when_redis_is_down(app, client):
    with app.app_context():
        world, plan_id = _world_with_standard()
        report_id = _submitted_report(world)
    saved = app.extensions.get("starpath_redis")
    app.extensions["starpath_redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    try:
        login(client, "office")
        url = f"/review/reports/{report_id}"
        response = client.post(
            f"{url}/approve",
            data={
                "csrf_token": hidden(client, url, "csrf_token"),
                "version": hidden(client, url, "version"),
                "milestone_version": hidden(client, url, "milestone_version"),
            },
        )
    finally:
        app.extensions["starpath_redis"] = saved
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ProgressReport, report_id).state == "approved"
