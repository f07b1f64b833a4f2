"""gunicorn settings for StarPath: `gunicorn -c scripts/deploy/gunicorn.conf.py wsgi:app`
(scripts/deploy/starpath-web.service and scripts/bench_web.py start it so).

Garbage collection: a loaded worker holds ~240,000 tracked objects (the app, SQLAlchemy's
mappers, the standards), and every full collection walked them all — a pause of 100–150 ms
inside whichever request triggered it, which set the p99 of every page. They live as long
as the worker, so they are moved out of the collector's sight (gc.freeze) once the app is
loaded, and again after the first requests have compiled the templates and SQL statements
they use. Young garbage is still collected as before.
"""

import gc

FREEZE_AGAIN_AFTER = 200  # requests: by then the pages in use have compiled what they keep
_served = 0


def freeze() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(worker):
    freeze()


def post_request(worker, req, environ, resp):
    global _served
    _served += 1
    if _served == FREEZE_AGAIN_AFTER:
        freeze()
