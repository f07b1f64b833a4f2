"""`make run`: the web server, one rq worker and the scheduler, on the embedded defaults.

Starts the three processes under scripts/supervise.py, which prefixes their output,
restarts a worker or scheduler that dies (with a back-off; it gives up after repeated
quick failures and leaves the web running) and stops everything on Ctrl+C / SIGTERM
or when the web server exits. The embedded Redis lives in this process, so it stays
up as long as the web runs. Production runs them as separate services (README).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PY = sys.executable


def commands(host: str, port: str) -> dict[str, list[str]]:
    return {
        "web": [PY, "-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", port],
        "worker": [PY, "-m", "workflows.worker"],
        "scheduler": [PY, "-m", "workflows.scheduler"],
    }


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


def main() -> int:
    from scripts.supervise import Supervisor

    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    server, url = embedded_redis()  # kept referenced: the server lives as long as we do
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "REDIS_URL": url}
    supervisor = Supervisor(commands(host, port), restart=("worker", "scheduler"), env=env)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    print(f"星途 StarPath: http://{host}:{port}/ (web + worker + scheduler; Ctrl+C stops all)", flush=True)
    code = supervisor.run()
    del server
    return code


if __name__ == "__main__":
    sys.exit(main())
