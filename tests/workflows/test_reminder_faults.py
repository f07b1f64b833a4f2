"""Reminders under faults, with real parts: a real rq worker process on the test Redis
(embedded or a server), the test database, a local HTTP robot that hangs.

- Redis loses everything (FLUSHALL) between scan and send;
- a worker is killed with SIGKILL in the middle of a send;
- the scheduler is down for two hours while the clock crosses a slot;
and afterwards no reminder is missing and none reached a channel twice.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Department, Notification, NotificationSetting, OutboxMessage, User
from tests.factories import build_world
from workflows.queue import get_queue, redis_connection, redis_url
from workflows.reminders_cli import log_rows
from workflows.reminders_scan import scan
from workflows.scheduler import Scheduler, periodic_jobs

ROOT = Path(__file__).resolve().parents[2]


def _env(app, as_of: date) -> dict:
    uri = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    return {
        **os.environ,
        "DATABASE_URL": uri,
        "REDIS_URL": redis_url(redis_connection(app)),
        "STARPATH_AS_OF": as_of.isoformat(),
        "SECRET_KEY": "test-secret",
        "PYTHONPATH": str(ROOT),
    }


def run_worker(app, as_of: date, timeout=120) -> subprocess.CompletedProcess:
    """A real worker process that works until the queues are empty."""
    return subprocess.run(
        [sys.executable, "-m", "workflows.worker", "--burst"],
        env=_env(app, as_of),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def on_18th(app):
    """The clock on Thursday 2021-03-18: 7 days before m_police (due 3/25)."""
    saved = app.config["STARPATH_AS_OF"]
    app.config["STARPATH_AS_OF"] = date(2021, 3, 18)
    yield
    app.config["STARPATH_AS_OF"] = saved


def _world(app, emails=True):
    with app.app_context():
        world = build_world()
        for u in db.session.scalars(select(User)):
            if emails:
                u.email = f"{u.username}@example.cn"
            db.session.add(NotificationSetting(user_id=u.id, digest=False))  # one message per reminder
        db.session.commit()
    return world


def _log(app):
    with app.app_context():
        return log_rows()


def _assert_once(rows):
    keys = Counter((r["milestone_id"], r["recipient"], r["kind"], r["slot"], r["channel"]) for r in rows)
    assert keys and max(keys.values()) == 1, keys


def _counts(app):
    with app.app_context():
        notes = Counter(db.session.scalars(select(Notification.user_id)))
        mails = Counter(db.session.scalars(select(OutboxMessage.to_address)))
    return notes, mails


def test_flushall_between_scan_and_send(app, on_18th):
    _world(app)
    with app.app_context():
        scan(date(2021, 3, 18))  # m_police due 3/25: 7 days before, police + transport
        from workflows.reminders_send import enqueue_send

        enqueue_send()
    redis = redis_connection(app)
    assert get_queue("high", redis).count == 1
    redis.flushall()  # the queue and everything in Redis is gone
    with app.app_context():
        assert scan(date(2021, 3, 18))["inserted"] == 0  # the database still has the work
        from workflows.reminders_scan import scan_job

        scan_job()  # the next periodic scan queues a send again
    done = run_worker(app, date(2021, 3, 18))
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _log(app)
    _assert_once(rows)
    assert {(r["recipient"], r["channel"], r["status"]) for r in rows} == {
        ("police", "in_app", "sent"),
        ("police", "email", "sent"),
        ("transport", "in_app", "sent"),
        ("transport", "email", "sent"),
    }
    notes, mails = _counts(app)
    assert sorted(mails.values()) == [1, 1] and sorted(notes.values()) == [1, 1]
    # A second worker run after a repeated scan sends nothing more.
    with app.app_context():
        scan_job()
    assert run_worker(app, date(2021, 3, 18)).returncode == 0
    assert _counts(app) == (notes, mails)


class HangingRobot:
    """A DingTalk-style robot that holds every request until released, counting them."""

    def __init__(self):
        self.requests = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append(json.loads(body))
                outer.release.wait(30)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/robot/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def robot():
    r = HangingRobot()
    yield r
    r.close()


def _children(pid):
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_worker_killed_during_a_send_never_doubles(app, robot, on_18th):
    world = _world(app, emails=False)
    with app.app_context():
        dept = db.session.get(Department, world["police_dept"])
        dept.webhook_url, dept.webhook_kind = robot.url, "dingtalk"
        db.session.commit()
        scan(date(2021, 3, 18))
        from workflows.reminders_send import enqueue_send

        enqueue_send()
    worker = subprocess.Popen(
        [sys.executable, "-m", "workflows.worker", "--burst"],
        env=_env(app, date(2021, 3, 18)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not robot.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert robot.requests, "the worker never reached the robot"
    for child in _children(worker.pid):  # the work horse, mid-request
        child.send_signal(signal.SIGKILL)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    assert len(robot.requests) == 1
    robot.release.set()

    # Later (past the claim's lease) a new worker sends what is left and never repeats
    # the interrupted webhook post: it is recorded as failed for an admin to look at.
    with app.app_context():
        from datetime import timedelta

        from app import clock
        from workflows.reminders_send import send_pending

        send_pending(now=clock.utcnow() + timedelta(hours=1), respect_digest=False)
    assert run_worker(app, date(2021, 3, 18)).returncode == 0
    rows = _log(app)
    _assert_once(rows)
    hook = [r for r in rows if r["channel"] == "webhook"]
    assert [(r["recipient"], r["status"]) for r in hook] == [("police", "failed")]
    assert "中断" in hook[0]["error"]
    assert {r["status"] for r in rows if r["channel"] == "in_app"} == {"sent"}
    notes, _ = _counts(app)
    assert sorted(notes.values()) == [1, 1]  # police and transport, once each
    assert len(robot.requests) == 1


def test_scheduler_down_for_two_hours_across_a_slot(app):
    _world(app)
    redis = redis_connection(app)
    saved = app.config["STARPATH_AS_OF"]
    try:
        app.config["STARPATH_AS_OF"] = date(2021, 3, 17)
        sched = Scheduler(app, redis, periodic_jobs(app.config), owner="s1")
        t0 = 1_000_000.0
        assert "reminders-scan" in sched.tick(now=t0)
        assert run_worker(app, date(2021, 3, 17)).returncode == 0
        assert _log(app) == []  # nothing due on 3/17
        sched.release()  # the scheduler stops …

        # … the clock crosses midnight into 3/18 (the 7-days-before slot of m_police) …
        app.config["STARPATH_AS_OF"] = date(2021, 3, 18)
        # … and two hours later a scheduler starts again.
        sched = Scheduler(app, redis, periodic_jobs(app.config), owner="s2")
        assert "reminders-scan" in sched.tick(now=t0 + 7200)
        assert run_worker(app, date(2021, 3, 18)).returncode == 0
        first = _log(app)
        assert {(r["recipient"], r["kind"], r["slot"]) for r in first} == {
            ("police", "before", "2021-03-18"),
            ("transport", "before", "2021-03-18"),
        }
        assert {r["status"] for r in first} == {"sent"}
        # More ticks and runs that day add nothing.
        sched.tick(now=t0 + 7200 + 900)
        assert run_worker(app, date(2021, 3, 18)).returncode == 0
        again = _log(app)
        _assert_once(again)
        assert len(again) == len(first)
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    finally:
        app.config["STARPATH_AS_OF"] = saved
