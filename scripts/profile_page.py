"""Where a page's time goes: `python scripts/profile_page.py USER PATH [PATH …]`.

In-process (Flask test client) on DATABASE_URL (default: the benchmark database
`bench` that scripts/gen_province.py fills), as of 2021-03-15. For each path:
status, time, the number of SQL statements and their total time, the statements
that ran most often, and with --cprofile the functions with the most own time.

    python scripts/profile_page.py a0001-police /my /milestones/19
    python scripts/profile_page.py --cprofile a0001-leader /plans/a0001-1313/dashboard
    python scripts/profile_page.py --post 'percent=30&claimed_status=in_progress&text=x&action=submit' \\
        a0947-industry /milestones/M1/report /milestones/M2/report     # a write, once each
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import logging
import os
import pstats
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("user")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs after one warm-up")
    ap.add_argument("--cprofile", action="store_true")
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--sort", default="tottime", help="pstats order: tottime or cumulative")
    ap.add_argument("--full", action="store_true", help="print the slowest statements in full")
    ap.add_argument("--list", action="store_true", help="print every statement of the last run, in order")
    ap.add_argument(
        "--post",
        metavar="FORM",
        help="POST this urlencoded form to each PATH once instead (a write is measured once: "
        "the report form, say, then answers with the pending report; CSRF is off here)",
    )
    args = ap.parse_args(argv)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
    os.environ["STARPATH_AS_OF"] = "2021-03-15"
    os.environ.pop("STARPATH_ENV", None)

    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app({"WTF_CSRF_ENABLED": False})
    logging.disable(logging.WARNING)  # the request log lines would drown the report
    statements: list[tuple[str, float]] = []
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, time.perf_counter() - conn.info.pop("t0", time.perf_counter())))

    client = app.test_client()
    resp = client.post("/login", data={"username": args.user, "password": "demo-pass-2021"})
    if resp.status_code != 302:
        raise SystemExit(f"log-in as {args.user} answered {resp.status_code}")
    if args.post is not None:
        return _posts(args, client, statements)
    for path in args.paths:
        client.get(path)  # warm-up
        gc.collect()  # as the gunicorn settings do (scripts/deploy/gunicorn.conf.py)
        gc.freeze()
        times, counts = [], []
        for _ in range(args.repeat):
            statements.clear()
            t0 = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            counts.append(len(statements))
        sql_ms = sum(t for _, t in statements) * 1000
        print(
            f"{path}: {resp.status_code}, {len(resp.data):,} bytes, best {min(times):.1f} ms, "
            f"{counts[-1]} SQL statements ({sql_ms:.1f} ms in the database)"
        )
        shapes = Counter(re.sub(r"\s+", " ", s)[:160] for s, _ in statements)
        for shape, n in shapes.most_common(args.top):
            if n > 1:
                print(f"   {n:5d} × {shape}")
        if args.list:
            for i, (s, t) in enumerate(statements, 1):
                flat = re.sub(r"\s+", " ", s)[:180]
                print(f"   {i:3d} {t * 1000:6.1f} ms: {flat}")
        slow = sorted(statements, key=lambda x: -x[1])[:3]
        for s, t in slow:
            flat = re.sub(r"\s+", " ", s)[: None if args.full else 200]
            print(f"   slowest {t * 1000:7.1f} ms: {flat}")
        if args.cprofile:
            prof = cProfile.Profile()  # over --repeat more requests: one is too few to read
            prof.enable()
            for _ in range(args.repeat):
                client.get(path)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top * 2)
            print("\n".join(out.getvalue().splitlines()[6:]))
    return 0


def _posts(args, client, statements) -> int:
    """Each PATH posted once with the form, and what that one request cost."""
    from urllib.parse import parse_qsl

    form = dict(parse_qsl(args.post, keep_blank_values=True))
    for path in args.paths:
        statements.clear()
        t0 = time.perf_counter()
        resp = client.post(path, data=form)
        ms = (time.perf_counter() - t0) * 1000
        sql_ms, count = sum(t for _, t in statements) * 1000, len(statements)
        print(f"POST {path}: {resp.status_code}, {ms:.1f} ms, {count} SQL statements ({sql_ms:.1f} ms)")
        if args.list:
            for i, (s, t) in enumerate(statements, 1):
                flat = re.sub(r"\s+", " ", s)[:180]
                print(f"   {i:3d} {t * 1000:6.1f} ms: {flat}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
