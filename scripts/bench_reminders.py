"""Benchmark the reminder scan: `python scripts/bench_reminders.py [--database URL]`.

Builds synthetic plans in a scratch database (PostgreSQL by default: the local
server's database `starpath_bench`, created if missing), then times one scan.
Scenarios: 100,000 milestones with about 5% due, the same number of due
milestones among twice as many, and twice the due share; the time should follow
the due milestones, not the total. Prints time, rows inserted and duplicates
(must be 0), and that a second scan inserts nothing. Goal: under 10 s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

TODAY = date(2021, 3, 17)  # a Wednesday: every slot kind lands on a working day
DEPARTMENTS = 60
USERS_PER_DEPARTMENT = 2
DUE_OFFSETS = [30, 7, 1, 0, -7, -14, -15]  # due date - today for milestones with a slot today


def driver(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def ensure_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    base, name = driver(url).rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(total: int, due_share: float, seed: int = 7) -> int:
    """Fill the database; returns the number of milestones with a slot today."""
    from app.extensions import db
    from app.models import Department, Milestone, Plan, PlanNode, Region, User

    rng = random.Random(seed)
    region = Region(name="基准市", kind="city")
    db.session.add(region)
    db.session.flush()
    depts = [Department(region_id=region.id, name=f"部门{i:03d}") for i in range(DEPARTMENTS)]
    db.session.add_all(depts)
    db.session.flush()
    users = [
        {
            "username": f"u{d.id}-{k}",
            "display_name": f"用户{d.id}-{k}",
            "email": f"u{d.id}-{k}@bench.example",
            "password_hash": "x",
            "role": "department",
            "region_id": region.id,
            "department_id": d.id,
            "active": True,
        }
        for d in depts
        for k in range(USERS_PER_DEPARTMENT)
    ]
    users.append(
        {**users[0], "username": "office", "email": None, "role": "plan_office", "department_id": None}
    )
    db.session.execute(insert(User), users)
    plan = Plan(
        region_id=region.id,
        code="bench",
        title="基准计划",
        period_start=date(2019, 1, 1),
        period_end=date(2024, 12, 31),
        standard_code=None,
    )
    db.session.add(plan)
    db.session.flush()
    node = PlanNode(plan_id=plan.id, key="n", kind="project", title="基准项目")
    db.session.add(node)
    db.session.flush()
    rows, due_count = [], 0
    for i in range(total):
        if rng.random() < due_share:
            due = TODAY + timedelta(days=rng.choice(DUE_OFFSETS))
            status, due_count = "in_progress", due_count + 1
        elif rng.random() < 0.5:  # in the past and done
            due, status = TODAY - timedelta(days=rng.randint(1, 700)), "done"
        else:  # far ahead: no slot today
            due, status = TODAY + timedelta(days=rng.randint(31, 700)), "not_started"
            if (due - TODAY).days in DUE_OFFSETS:
                due += timedelta(days=1)
        rows.append(
            {
                "plan_id": plan.id,
                "node_id": node.id,
                "key": f"m{i}",
                "title": f"里程碑{i}",
                "text": "",
                "due_date": due,
                "baseline_due_date": due,
                "lead_department_id": depts[i % DEPARTMENTS].id,
                "status": status,
                "percent": 100 if status == "done" else 0,
                "targets": [],
                "version": 1,
            }
        )
    for k in range(0, len(rows), 10000):
        db.session.execute(insert(Milestone), rows[k : k + 10000])
    db.session.commit()
    return due_count


def duplicates() -> int:
    from app.extensions import db
    from app.models import Reminder

    groups = (
        select(func.count())
        .select_from(Reminder)
        .group_by(Reminder.milestone_id, Reminder.recipient_id, Reminder.kind, Reminder.slot)
        .having(func.count() > 1)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(groups))


def scenario(app, total: int, due_share: float) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from workflows.reminders_scan import scan

    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        due = build(total, due_share)
        db.session.remove()
        started = time.perf_counter()
        result = scan(TODAY)
        seconds = time.perf_counter() - started
        again = scan(TODAY)["inserted"]
        dups = duplicates()
        db.session.remove()
    return {
        "total": total,
        "due": due,
        "seconds": seconds,
        "inserted": result["inserted"],
        "again": again,
        "dups": dups,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/starpath_bench")
    parser.add_argument("--quick", action="store_true", help="10,000 milestones (a smoke run)")
    args = parser.parse_args(argv)
    ensure_database(args.database)
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": driver(args.database), "STARPATH_AS_OF": TODAY})
    n = 10000 if args.quick else 100000
    print(f"reminder scan on {args.database.rsplit('@', 1)[-1]} (clock {TODAY.isoformat()})")
    heads = [("milestones", 10), ("due", 6), ("seconds", 8), ("inserted", 9)]
    heads += [("2nd scan", 8), ("duplicates", 10)]
    print(" ".join(f"{h:>{w}}" for h, w in heads), f"{'ms/due':>7}")
    for total, share in ((n, 0.05), (2 * n, 0.025), (n, 0.10)):
        r = scenario(app, total, share)
        print(
            f"{r['total']:>10} {r['due']:>6} {r['seconds']:>8.2f} {r['inserted']:>9} {r['again']:>8}"
            f" {r['dups']:>10} {1000 * r['seconds'] / max(1, r['due']):>7.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
