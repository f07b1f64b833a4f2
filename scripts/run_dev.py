"""`make run`: the web server, one rq worker and the scheduler, on the embedded defaults.

Starts the three processes, prefixes their output, and stops all of them when
one exits or on Ctrl+C. Production runs them as separate services (README).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PY = sys.executable


def commands(host: str, port: str) -> dict[str, list[str]]:
    return {
        "web": [PY, "-m", "flask", "--app", "wsgi", "run", "--host", host, "--port", port],
        "worker": [PY, "-m", "workflows.worker"],
        "scheduler": [PY, "-m", "workflows.scheduler"],
    }


def pump(name: str, proc: subprocess.Popen) -> None:
    for line in proc.stdout:
        sys.stdout.write(f"{name:<9}| {line}")
        sys.stdout.flush()


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
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    server, url = embedded_redis()  # kept referenced: the server lives as long as we do
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "REDIS_URL": url}
    procs = {}
    for name, cmd in commands(host, port).items():
        procs[name] = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        threading.Thread(target=pump, args=(name, procs[name]), daemon=True).start()
    print(f"星途 StarPath: http://{host}:{port}/ (web + worker + scheduler; Ctrl+C stops all)", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, p in procs.items():
            if p.poll() is not None:
                print(f"{name} exited with {p.returncode}; stopping the others", flush=True)
                code = p.returncode or 1
                stopping = True
        time.sleep(0.5)
    for p in procs.values():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.time() + 10
    for p in procs.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
    del server
    return code


if __name__ == "__main__":
    sys.exit(main())
