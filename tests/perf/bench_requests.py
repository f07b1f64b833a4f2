"""Server time per request for one user, one request at a time (issue 12's "no signed-in
page above 10 ms of server time for a department user").

    python -m tests.perf.bench_requests [--db PATH] [--user wh-police] [--n 50] [--profile URL]

Builds the demo (both plans, as of 2021-03-15) in a SQLite file on first use, signs in with the
Flask test client and times each page N times: the CPU time of the process (the server's
work, SQLite's included; steady on a busy machine) and the wall time, median and p95 in ms; with
--profile, prints a cProfile of that page instead. Not a test: nothing here is collected.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app import create_app
from app.extensions import db

PAGES = ["/my", "/milestones/{milestone}", "/notifications", "/plans/{plan}/indicators"]


def build(path: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "bench",
            "STARPATH_AS_OF": date(2021, 3, 15),
            "WTF_CSRF_ENABLED": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    if not path.exists():
        from flask_migrate import upgrade

        from app.demo import load_demo
        from app.forecasting.snapshot import store_snapshot
        from app.models import Plan

        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
            for plan in db.session.scalars(select(Plan).where(Plan.standard_code.is_not(None))):
                store_snapshot(plan, date(2021, 3, 15))
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/starpath-bench.db")
    parser.add_argument("--user", default="wh-police")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--profile")
    args = parser.parse_args()
    os.environ.setdefault("STARPATH_LOG_LEVEL", "WARNING")
    app = build(Path(args.db))
    import logging

    logging.getLogger("starpath").setLevel(logging.WARNING)
    from app.demo import DEMO_PASSWORD
    from app.models import Milestone, Plan, User

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == args.user))
        milestone = db.session.scalar(
            select(Milestone)
            .where(Milestone.lead_department_id == user.department_id)
            .order_by(Milestone.id)
            .limit(1)
        )
        plan = db.session.get(Plan, milestone.plan_id)
        ids = {"milestone": milestone.id, "plan": plan.code}
    client = app.test_client()
    response = client.post("/login", data={"username": args.user, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    if args.profile:
        url = args.profile.format(**ids)
        client.get(url)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.n):
            client.get(url)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return
    for page in PAGES:
        url = page.format(**ids)
        client.get(url)  # warm
        cpu, wall = [], []
        for _ in range(args.n):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            cpu.append((time.process_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        print(f"{url:34} cpu {_stats(cpu)}   wall {_stats(wall)}")


def _stats(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(0.95 * (len(times) - 1))]
    return f"median {statistics.median(times):6.1f} ms p95 {p95:6.1f} ms"


if __name__ == "__main__":
    main()
