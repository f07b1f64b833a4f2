"""Admin: the job queue — workers, queue lengths, the scheduler's heartbeat, failed jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from app import audit
from app.admin import bp
from app.admin.forms import JobActionForm
from app.clock import utcnow
from app.extensions import db
from app.models import JobState
from app.permissions import require
from workflows.queue import QUEUES, all_queues, get_queue, redis_connection

SCHEDULER_STATE = "scheduler"
SCHEDULER_STALE = timedelta(minutes=2)
WORKER_STATES = {"idle": "空闲", "busy": "执行中", "started": "启动中", "suspended": "已暂停"}


@dataclass
class QueueJob:
    """Stands for an rq job in the audit trail (its id is a string, not a row id)."""

    job_id: str
    id: None = None


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def scheduler_status(now: datetime | None = None) -> dict:
    """The scheduler's last heartbeat from its JobState row; running only if under two minutes old."""
    now = now or utcnow()
    state = db.session.get(JobState, SCHEDULER_STATE)
    value = state.value if state is not None and isinstance(state.value, dict) else {}
    beat = None
    try:
        beat = _naive_utc(datetime.fromisoformat(value["beat"])) if value.get("beat") else None
    except (TypeError, ValueError):
        beat = None
    running = beat is not None and now - beat <= SCHEDULER_STALE
    return {"running": running, "beat": beat, "owner": value.get("owner")}


def _exc_text(job: Job) -> str:
    result = job.latest_result()
    return ((result.exc_string if result is not None else None) or job._exc_info or "").strip()


def _exc_summary(text: str) -> str:
    """The exception line (the traceback's last line), shown first; the full text folds open."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _workers(conn) -> list[dict]:
    rows = []
    for w in Worker.all(connection=conn, serializer=JSONSerializer):
        job_id = w.get_current_job_id()
        current = None
        if job_id:
            try:
                job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
                current = job.description or job_id
            except NoSuchJobError:
                current = job_id
        state = w.get_state()
        rows.append(
            {
                "name": w.name,
                "state": WORKER_STATES.get(state, state),
                "queues": ", ".join(q.name for q in w.queues),
                "current": current,
                "heartbeat": _naive_utc(w.last_heartbeat),
                "pid": w.pid,
                "host": w.hostname,
            }
        )
    return sorted(rows, key=lambda r: r["name"])


def _failed_jobs(conn) -> list[dict]:
    rows = []
    for q in all_queues(conn):
        registry = FailedJobRegistry(queue=q)
        ids = registry.get_job_ids(desc=True)
        for job in Job.fetch_many(ids, connection=conn, serializer=JSONSerializer):
            if job is None:
                continue
            exc = _exc_text(job)
            rows.append(
                {
                    "id": job.id,
                    "queue": q.name,
                    "title": job.description or job.func_name,
                    "func": job.func_name,
                    "exc": exc,
                    "error": _exc_summary(exc),
                    "failed_at": _naive_utc(job.ended_at),
                }
            )
    rows.sort(key=lambda r: r["failed_at"] or datetime.min, reverse=True)
    return rows


@bp.route("/queues")
@require("admin")
def queues():
    conn = redis_connection()
    error = None
    workers, lengths, failed = [], [], []
    try:
        workers = _workers(conn)
        for q in all_queues(conn):
            lengths.append({"name": q.name, "count": q.count, "failed": FailedJobRegistry(queue=q).count})
        failed = _failed_jobs(conn)
    except RedisError as exc:
        error = f"任务队列不可用：{exc}"
    return render_template(
        "admin/queues.html",
        workers=workers,
        lengths=lengths,
        failed=failed,
        scheduler=scheduler_status(),
        error=error,
        form=JobActionForm(),
    )


def _job_action():
    """Validate the posted job id and queue; answer (registry, job_id) or a redirect."""
    form = JobActionForm()
    if not form.validate_on_submit() or form.queue.data not in QUEUES:
        flash("请求无效：缺少任务编号或队列名称。", "error")
        return None, None
    registry = FailedJobRegistry(queue=get_queue(form.queue.data, redis_connection()))
    return registry, form.job_id.data.strip()


@bp.route("/queues/requeue", methods=["POST"])
@require("admin")
def requeue_job():
    registry, job_id = _job_action()
    if registry is None:
        return redirect(url_for("admin.queues"))
    try:
        job = registry.requeue(job_id)
    except (InvalidJobOperation, NoSuchJobError):
        flash(f"任务 {job_id} 已不在失败列表中（可能已被他人重新排队或删除）。", "error")
        return redirect(url_for("admin.queues"))
    except RedisError as exc:
        flash(f"任务队列不可用：{exc}", "error")
        return redirect(url_for("admin.queues"))
    audit.record(
        current_user,
        "job.requeue",
        QueueJob(job_id),
        f"重新排队失败任务 {job_id}（{job.description or job.func_name}）",
        after={"job_id": job_id, "queue": registry.name, "func": job.func_name},
    )
    db.session.commit()
    flash(f"任务已重新排入 {registry.name} 队列。", "success")
    return redirect(url_for("admin.queues"))


@bp.route("/queues/delete", methods=["POST"])
@require("admin")
def delete_job():
    registry, job_id = _job_action()
    if registry is None:
        return redirect(url_for("admin.queues"))
    try:
        removed = registry.remove(job_id)
        title = None
        if removed:
            try:
                job = Job.fetch(job_id, connection=registry.connection, serializer=JSONSerializer)
                title = job.description or job.func_name
                job.delete()
            except NoSuchJobError:
                pass
    except RedisError as exc:
        flash(f"任务队列不可用：{exc}", "error")
        return redirect(url_for("admin.queues"))
    if not removed:
        flash(f"任务 {job_id} 已不在失败列表中（可能已被他人重新排队或删除）。", "error")
        return redirect(url_for("admin.queues"))
    audit.record(
        current_user,
        "job.delete",
        QueueJob(job_id),
        f"删除失败任务 {job_id}" + (f"（{title}）" if title else ""),
        before={"job_id": job_id, "queue": registry.name, "title": title},
    )
    db.session.commit()
    flash("失败任务已删除。", "success")
    return redirect(url_for("admin.queues"))
