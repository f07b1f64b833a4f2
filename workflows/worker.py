"""The worker entry point: `python -m workflows.worker [queue ...]`.

Builds the app once and keeps its context pushed, so every job reaches the
database through Flask-SQLAlchemy. rq forks a work horse per job: the child
drops the connections it inherited (never closing the parent's sockets) and
opens its own; the session is removed after each job.
"""

from __future__ import annotations

import argparse
import logging

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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    from app import create_app
    from app.extensions import db

    app = create_app()
    with app.app_context():
        db.engine.dispose()  # nothing opened before the first fork
        worker = build_worker(app, args.queues, args.name)
        worker.work(burst=args.burst, with_scheduler=False)


if __name__ == "__main__":
    main()
