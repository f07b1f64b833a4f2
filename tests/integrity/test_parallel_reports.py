"""Six parallel submissions by one department on one milestone, from six client
processes with their own sessions, against a served app: exactly one pending report is
stored, and every other request gets the friendly redirect to it (never a 500).

The clients are plain subprocesses (tests/integrity/posting.py run as a program) that
post at one shared instant; each request is served on its own server thread with its
own database connection, so the race is decided by the database's partial unique index."""

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.extensions import db
from app.models import ProgressReport
from tests.factories import PASSWORD, build_world
from tests.integrity.posting import Browser, cookie_header

ROOT = Path(__file__).resolve().parents[2]

PARALLEL = 6


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


# Three bursts (three milestones the department leads), so a lost race shows reliably.
@pytest.mark.parametrize("milestone", ["m_police", "m_late", "m_far"])
def test_parallel_submissions_store_one_pending_report(app, served, milestone):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite runs one writer at a time, so there is no race to lose. The index itself
        # is tested on SQLite in test_migration_0011.
        pytest.skip("a race between real processes needs PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        world = build_world()
    milestone_id = world[milestone]
    path = f"/milestones/{milestone_id}/report"
    jobs = []
    for n in range(PARALLEL):  # six separate sessions, each with its own form token
        browser = Browser(served)
        browser.login("police", PASSWORD)
        data = {
            "csrf_token": browser.csrf(path),
            "percent": 60,
            "claimed_status": "in_progress",
            "text": f"第 {n + 1} 个窗口提交的进展",
            "action": "submit",
        }
        jobs.append({"base": served, "cookie": cookie_header(browser), "path": path, "data": data})
    start = time.time() + 3  # every process is up and waiting before the instant
    clients = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integrity.posting"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in jobs
    ]
    for client, job in zip(clients, jobs, strict=True):  # all get their job before the instant
        client.stdin.write(json.dumps(dict(job, start=start)))
        client.stdin.close()
    answers = []
    for client in clients:
        answers.append(tuple(json.loads(client.stdout.read())))
        client.wait(timeout=60)

    assert [a for a in answers if a[0] != 302] == [], "every submission answers with a redirect"
    with app.app_context():
        pending = db.session.scalars(
            select(ProgressReport).where(
                ProgressReport.milestone_id == milestone_id,
                ProgressReport.state.in_(["draft", "submitted", "returned"]),
            )
        ).all()
        total = db.session.scalar(select(func.count(ProgressReport.id)))
    assert len(pending) == 1 and total == 1, [(r.id, r.state) for r in pending]
    kept = pending[0]
    assert kept.state == "submitted"
    locations = sorted(a[1] for a in answers)
    to_milestone = [loc for loc in locations if loc.endswith(f"/milestones/{milestone_id}")]
    to_pending = [loc for loc in locations if loc.endswith(f"/reports/{kept.id}/edit")]
    assert len(to_milestone) == 1 and len(to_pending) == PARALLEL - 1, locations
