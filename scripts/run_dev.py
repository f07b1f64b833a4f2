"""`make run`: the web server, rq workers and the scheduler, on the embedded defaults.

One worker by default; FORECAST_WORKERS=N (or `--workers N`) starts N, so the changed
plans of an hourly refresh are recomputed in parallel (each job stores its run under a
unique data key, so two workers never store the same plan's data twice).

Starts the three processes under scripts/supervise.py, which prefixes their output,
restarts a worker or scheduler that dies (with a back-off; it gives up after repeated
quick failures and leaves the web running) and stops everything on Ctrl+C / SIGTERM
or when the web server exits. The embedded Redis lives in this process, so it stays
up as long as the web runs. Production runs them as separate services (README).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PY = sys.executable


def worker_names(workers: int) -> list[str]:
    """worker, worker-2, worker-3 …"""
    return ["worker"] + [f"worker-{i}" for i in range(2, workers + 1)]


def commands(host: str, port: str, workers: int = 1) -> dict[str, list[str]]:
    out = {"web": [PY, "-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", port]}
    for name in worker_names(workers):
        out[name] = [PY, "-m", "workflows.worker", "--workers", "1"]  # rq names each (a restart: a new name)
    out["scheduler"] = [PY, "-m", "workflows.scheduler"]
    return out


def worker_count(argv=None) -> int:
    parser = argparse.ArgumentParser(description="make run: web, workers and scheduler")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("FORECAST_WORKERS") or 1))
    count = parser.parse_args(argv).workers
    if count < 1:
        parser.error("--workers must be at least 1")
    return count


def embedded_redis():
    """Start the embedded Redis once, here, so the three processes share one server
    (each starting its own at the same moment would race)."""
    from app import create_app
    from workflows.queue import redis_connection, redis_url

    app = create_app()
    if app.config.get("REDIS_URL"):
        return None, app.config["REDIS_URL"]
    conn = redis_connection(app)
    conn.ping()
    return conn, redis_url(conn)


def main(argv=None) -> int:
    from scripts.supervise import Supervisor

    workers = worker_count(argv)
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    server, url = embedded_redis()  # kept referenced: the server lives as long as we do
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "REDIS_URL": url}
    if workers > 1:
        from workflows.worker import one_thread_each

        env = one_thread_each(env)
    restart = (*worker_names(workers), "scheduler")
    supervisor = Supervisor(commands(host, port, workers), restart=restart, env=env)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    what = "worker" if workers == 1 else f"{workers} workers"
    print(f"星途 StarPath: http://{host}:{port}/ (web + {what} + scheduler; Ctrl+C stops all)", flush=True)
    code = supervisor.run()
    del server
    return code


if __name__ == "__main__":
    sys.exit(main())
