"""`make run` keeps going when a worker or the scheduler dies.

The supervisor (scripts/supervise.py) is driven with quick fake children; one smoke
test starts scripts/run_dev.py itself on a free port, kills its worker and checks
that the web still answers and a new worker comes up.
"""

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.supervise import Supervisor

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.1)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie not yet reaped counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Running:
    """A supervisor running in a thread, stopped (and its children checked gone) at the end."""

    def __init__(self, commands, **kw):
        self.out = io.StringIO()
        kw.setdefault("backoff", (0.1, 0.2))
        kw.setdefault("poll_seconds", 0.05)
        kw.setdefault("stop_timeout", 5)
        self.sup = Supervisor(commands, out=self.out, **kw)
        self.result = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        self.result = self.sup.run()

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: all(c.proc is not None for c in self.sup.children.values()), what="children started")
        return self

    def __exit__(self, *exc):
        self.sup.request_stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the supervisor did not stop"
        for child in self.sup.children.values():
            for pid in child.pids:
                assert not alive(pid), f"{child.name} pid {pid} still running after stop"

    @property
    def log(self) -> str:
        return self.out.getvalue()


def test_a_killed_worker_is_restarted_and_the_others_keep_running():
    commands = {"web": SLEEPER, "worker": SLEEPER, "scheduler": SLEEPER}
    with Running(commands) as run:
        web, worker, scheduler = (run.sup.pid(n) for n in ("web", "worker", "scheduler"))
        os.kill(worker, signal.SIGKILL)
        new_worker = wait_for(lambda: (p := run.sup.pid("worker")) and p != worker and p, what="a new worker")
        assert new_worker != worker
        assert not alive(worker)
        assert run.sup.pid("web") == web and alive(web)
        assert run.sup.pid("scheduler") == scheduler and alive(scheduler)
        assert "worker exited unexpectedly (killed by SIGKILL); restarting" in run.log
        assert f"worker started (pid {new_worker})" in run.log
    assert run.result == 0


def test_a_killed_scheduler_is_restarted_too():
    commands = {"web": SLEEPER, "worker": SLEEPER, "scheduler": SLEEPER}
    with Running(commands) as run:
        scheduler = run.sup.pid("scheduler")
        os.kill(scheduler, signal.SIGKILL)
        wait_for(lambda: (p := run.sup.pid("scheduler")) and p != scheduler, what="a new scheduler")
        assert alive(run.sup.pid("web"))


def test_a_worker_that_keeps_crashing_is_given_up_and_the_web_keeps_running():
    commands = {"web": SLEEPER, "worker": CRASHER}
    with Running(commands, max_quick_failures=3) as run:
        wait_for(lambda: run.sup.children["worker"].gave_up, what="giving up on the worker")
        time.sleep(0.5)
        assert run.sup.children["worker"].starts == 3
        assert "worker exited (exit code 3) 3 times in a row" in run.log
        assert "not restarting it" in run.log
        assert run.thread.is_alive()
        assert alive(run.sup.pid("web"))


def test_a_worker_that_ran_a_while_before_dying_starts_its_count_again():
    commands = {"web": SLEEPER, "worker": SLEEPER}
    with Running(commands, max_quick_failures=2, quick_seconds=0.3) as run:
        for _ in range(3):  # each ran longer than quick_seconds: never given up
            pid = wait_for(lambda: run.sup.pid("worker"), what="a worker")
            time.sleep(0.4)
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda old=pid: (p := run.sup.pid("worker")) and p != old, what="a restarted worker")
        assert not run.sup.children["worker"].gave_up


def test_the_web_exiting_stops_everything():
    commands = {"web": CRASHER, "worker": SLEEPER, "scheduler": SLEEPER}
    run = Running(commands)
    run.thread.start()
    run.thread.join(15)
    assert not run.thread.is_alive()
    assert run.result == 3
    assert "web exited (exit code 3); stopping the others" in run.log
    for child in run.sup.children.values():
        for pid in child.pids:
            assert not alive(pid)


def test_stop_ends_a_child_that_ignores_sigterm():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True: time.sleep(0.1)",
    ]
    with Running({"web": SLEEPER, "worker": stubborn}, stop_timeout=1) as run:
        time.sleep(0.3)  # let it install its handler
        assert run.sup.pid("worker")


# --- the real thing ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.skipif(os.environ.get("STARPATH_SKIP_SMOKE") == "1", reason="smoke test switched off")
def test_run_dev_restarts_a_killed_worker_and_the_web_keeps_answering(tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "STARPATH_ENV")},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
        "REDIS_EMBEDDED_PATH": str(tmp_path / "redis" / "dev.rdb"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "MAIL_OUTBOX_PATH": str(tmp_path / "outbox.log"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    proc = subprocess.Popen(
        [sys.executable, "scripts/run_dev.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()

    def worker_pids():
        return [
            int(m.group(1)) for line in list(lines) if (m := re.search(r"worker started \(pid (\d+)\)", line))
        ]

    try:
        url = f"http://127.0.0.1:{port}/login"
        # generous: the web imports the whole app (and the API document) on a machine CI may share
        wait_for(lambda: answers(url), timeout=90, what="the web to answer")
        first = wait_for(worker_pids, timeout=10, what="a worker")[0]
        wait_for(
            lambda: any("Listening on" in line or "*** Listening" in line for line in lines), 20, "worker up"
        )
        os.kill(first, signal.SIGKILL)
        pids = wait_for(lambda: (p := worker_pids()) and len(p) >= 2 and p, timeout=15, what="a new worker")
        assert alive(pids[-1])
        assert proc.poll() is None, "run_dev stopped"
        assert answers(url), "the web stopped answering"
        text = "".join(lines)
        assert "worker exited unexpectedly (killed by SIGKILL)" in text
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0, "".join(lines)[-2000:]
    assert not answers(f"http://127.0.0.1:{port}/login"), "the web is still up after SIGTERM"
    for pid in worker_pids():
        assert not alive(pid)
