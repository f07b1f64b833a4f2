"""The worker entry point: `python -m workflows.worker [queue ...] [--workers N]`.

--workers N (default: FORECAST_WORKERS, else 1) runs N worker processes side by side,
so the plans an hourly refresh finds changed are recomputed in parallel; a job stores
its run under a unique (plan, data key), so two workers never store the same data twice.

Builds the app once and keeps its context pushed, so every job reaches the
database through Flask-SQLAlchemy. rq forks a work horse per job: the child
drops the connections it inherited (never closing the parent's sockets) and
opens its own; the session is removed after each job.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys

from rq import Worker
from rq.serializers import JSONSerializer

from workflows.queue import QUEUES, get_queue, redis_connection


class AppWorker(Worker):
    """rq's forking worker with the database pool made fork-safe."""

    def main_work_horse(self, job, queue):
        from app.extensions import db

        db.engine.dispose(close=False)  # the parent's pooled connections are not ours to use
        super().main_work_horse(job, queue)

    def perform_job(self, job, queue):
        from app.extensions import db

        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()


def build_worker(app, queue_names=QUEUES, name=None, worker_class=AppWorker):
    conn = redis_connection(app)
    queues = [get_queue(n, conn) for n in queue_names]
    return worker_class(queues, connection=conn, serializer=JSONSerializer, name=name)


def main(argv=None):
    parser = argparse.ArgumentParser(description="StarPath rq worker")
    parser.add_argument("queues", nargs="*", default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--name", default=None)
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("FORECAST_WORKERS") or 1),
        help="worker processes to run side by side (default: FORECAST_WORKERS, else 1)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.workers > 1:
        return run_several(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        db.engine.dispose()  # nothing opened before the first fork
        worker = build_worker(app, args.queues, args.name)
        worker.work(burst=args.burst, with_scheduler=False)


BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_each(env: dict) -> dict:
    """Several workers side by side: numpy's BLAS in each on one thread (unless set), so
    N workers do not start N × cores threads that fight over the cores."""
    return {**{name: "1" for name in BLAS_THREADS}, **env}


def run_several(args) -> int:
    """Start `args.workers` single workers as child processes; SIGTERM / Ctrl+C reaches
    each (rq finishes the job at hand, then stops); returns when all have stopped."""
    cmd = [sys.executable, "-m", "workflows.worker", *args.queues, "--workers", "1"]
    env = one_thread_each(dict(os.environ))
    if args.burst:
        cmd.append("--burst")
    names = [f"{args.name}-{i}" if args.name else None for i in range(1, args.workers + 1)]
    children = [subprocess.Popen(cmd + (["--name", n] if n else []), env=env) for n in names]

    def forward(signum, _frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max(codes, key=abs)


if __name__ == "__main__":
    sys.exit(main())
