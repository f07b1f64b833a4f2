"""/admin/queues: a job that really failed on a real rq worker shows up; requeue and delete work."""

from datetime import timedelta

import pytest
from rq import SimpleWorker, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, JobState
from tests.conftest import csrf_from, login
from tests.factories import build_world
from workflows.queue import get_queue, redis_connection

FAILING = "tests.admin.failing_jobs.explode"


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()


def _failed_job(app, label="甲"):
    """Enqueue the failing job and run it on a burst SimpleWorker; return (queue, job id)."""
    conn = redis_connection(app)
    q = get_queue("default", conn)
    job = q.enqueue_call(FAILING, args=(label,), description=f"测试失败任务{label}")
    SimpleWorker([q], connection=conn, serializer=JSONSerializer).work(burst=True)
    assert job.id in FailedJobRegistry(queue=q).get_job_ids()
    return q, job.id


def _post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_from(client, "/admin/queues"), **data})


def test_failed_job_is_listed_requeued_and_deleted(app, client, world):
    q, job_id = _failed_job(app)
    login(client, "admin")
    page = client.get("/admin/queues").get_data(as_text=True)
    assert "失败的任务（1）" in page
    assert job_id in page
    assert "测试失败任务甲" in page
    assert FAILING in page
    assert "RuntimeError: 任务失败：甲" in page  # the traceback's last line

    response = _post(client, "/admin/queues/requeue", job_id=job_id, queue="default")
    assert response.status_code == 302
    assert job_id in q.job_ids
    assert job_id not in FailedJobRegistry(queue=q).get_job_ids()
    assert "没有失败的任务" in client.get("/admin/queues").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "job.requeue"))
        assert event.after["job_id"] == job_id
        assert event.user_id == world["admin"]

    # A second requeue of the same job (another admin's stale page) changes nothing.
    response = _post(client, "/admin/queues/requeue", job_id=job_id, queue="default")
    assert "已不在失败列表中" in client.get("/admin/queues").get_data(as_text=True)
    assert q.job_ids.count(job_id) == 1

    # It fails again on the worker; then 删除 removes it for good.
    SimpleWorker([q], connection=q.connection, serializer=JSONSerializer).work(burst=True)
    assert job_id in FailedJobRegistry(queue=q).get_job_ids()
    assert _post(client, "/admin/queues/delete", job_id=job_id, queue="default").status_code == 302
    assert job_id not in FailedJobRegistry(queue=q).get_job_ids()
    with pytest.raises(NoSuchJobError):
        Job.fetch(job_id, connection=q.connection, serializer=JSONSerializer)
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "job.delete")) is not None


def test_unknown_queue_is_refused(app, client, world):
    q, job_id = _failed_job(app)
    login(client, "admin")
    _post(client, "/admin/queues/requeue", job_id=job_id, queue="nope")
    assert job_id in FailedJobRegistry(queue=q).get_job_ids()


def test_queue_lengths_and_workers(app, client, world):
    conn = redis_connection(app)
    low = get_queue("low", conn)
    low.enqueue_call(FAILING, args=("乙",))
    low.enqueue_call(FAILING, args=("丙",))
    worker = Worker([low], connection=conn, serializer=JSONSerializer, name="worker-under-test")
    worker.register_birth()
    worker.set_state("idle")
    worker.heartbeat()
    try:
        login(client, "admin")
        page = client.get("/admin/queues").get_data(as_text=True)
    finally:
        worker.register_death()
    assert "工作进程（1）" in page
    assert "worker-under-test" in page and "空闲" in page
    lengths = page.split('data-testid="queue-lengths"')[1].split("</section>")[0]
    assert "低优先级（low）" in lengths and "<b>2</b>" in lengths
    assert "没有运行中的工作进程" in client.get("/admin/queues").get_data(as_text=True)


@pytest.mark.parametrize(
    "age,expected",
    [(None, "从未收到心跳"), (timedelta(seconds=30), "运行中"), (timedelta(minutes=5), "未运行")],
)
def test_scheduler_heartbeat(app, client, world, age, expected):
    if age is not None:
        with app.app_context():
            beat = (utcnow() - age).isoformat()
            db.session.add(JobState(name="scheduler", value={"owner": "host-1:4242", "beat": beat}))
            db.session.commit()
    login(client, "admin")
    section = client.get("/admin/queues").get_data(as_text=True).split('data-testid="scheduler"')[1]
    section = section.split("</section>")[0]
    assert expected in section
    if expected == "运行中":
        assert "host-1:4242" in section and "未运行" not in section


@pytest.mark.parametrize("username", ["office", "police", "leader", "province"])
def test_non_admin_gets_403(app, client, world, username):
    q, job_id = _failed_job(app)
    login(client, username)
    assert client.get("/admin/queues").status_code == 403
    token = csrf_from(client, "/notifications")
    for url in ("/admin/queues/requeue", "/admin/queues/delete"):
        response = client.post(url, data={"csrf_token": token, "job_id": job_id, "queue": "default"})
        assert response.status_code == 403
    assert job_id in FailedJobRegistry(queue=q).get_job_ids()
