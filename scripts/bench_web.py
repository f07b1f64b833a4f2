"""Web speed under a bounded load (issue 12): `python scripts/bench_web.py [options]`.

Starts gunicorn (4 sync workers, as scripts/deploy/starpath-web.service runs it) on
PostgreSQL (DATABASE_URL, default database `bench`, filled by scripts/gen_province.py)
and Redis (REDIS_URL, default db 14, flushed first), with STARPATH_ENV=production,
STARPATH_AS_OF=2021-03-15 and a fresh random SECRET_KEY, then drives each page from
a second process on loopback: `wrk` (20 connections by default, a fixed duration per
page), for the report submission too, with a Lua script handing each request the next
prepared (session cookie, CSRF token, milestone) of the departments logged in before the
timed run, so no two submit for the same pair (the earlier Python client processes took
as much CPU as the server on this 2-core machine). Per page: p50 / p95 / p99 latency,
requests/s, errors (non-200 answers and socket errors), bytes per response and the
ratio of its throughput to the floor page's (the anonymous log-in page `/login`,
measured in the same run). Then a one-request-at-a-time pass reads the server's own
time for each request (`duration_ms` of the app's `event=request` log line, matched by
X-Request-Id). Worker deaths (signals, exits, timeouts) are counted from gunicorn's log.

Why sync workers: that is what the deployment runs (nginx in front buffers slow
clients, so a sync worker is never held by a slow reader), the pages are mostly CPU
(templates, status rules) under one GIL per process, and threads would only blur the
per-request times. `--worker-class gthread --threads N` measures the alternative.

    python scripts/gen_province.py --areas 150 --big-plan-milestones 6000
    python scripts/bench_web.py                       # 20 clients, 10 s per page
    python scripts/bench_web.py --duration 5 --clients 10 --json /tmp/bench.json
    python scripts/bench_web.py --big-plan             # the 6,000-milestone plan's pages
    python scripts/bench_web.py --pages my,tree --sequential 50

Accounts: area --area (default 1, a 威海 copy): a0001-police (department),
a0001-leader, a0001-office, and the demo's `province` and `admin`; password
demo-pass-2021. The report submission rotates over the department accounts of the
first --post-areas areas and their milestones; it adds reports to the database
(regenerate it for a clean run).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_load import (  # noqa: E402  (the script's own folder, put first above)
    AS_OF,
    DEFAULT_DB,
    DEFAULT_REDIS,
    api_token,
    csrf_token,
    death_count,
    drain,
    ensure_wrk,
    login,
    merge_cookies,
    request,
    run_wrk,
    run_wrk_posts,
    sequential,
    start_server,
    stop_server,
    worker_deaths,
)


def db_connect(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def area_facts(conn, area: int) -> dict:
    prefix = f"a{area:04d}"
    code = conn.execute("SELECT code FROM plan WHERE code LIKE %s", (prefix + "-%",)).fetchone()
    if code is None:
        raise SystemExit(f"no plan for area {area} (run scripts/gen_province.py first)")
    dept_user = conn.execute(
        "SELECT username, department_id FROM \"user\" WHERE username LIKE %s AND role = 'department' "
        "ORDER BY username = %s DESC, id LIMIT 1",
        (prefix + "-%", prefix + "-police"),
    ).fetchone()
    milestone = conn.execute(
        "SELECT m.id FROM milestone m JOIN plan p ON p.id = m.plan_id WHERE p.code = %s "
        "AND m.lead_department_id = %s ORDER BY m.due_date, m.id LIMIT 1",
        (code[0], dept_user[1]),
    ).fetchone()
    return {
        "code": code[0],
        "department": dept_user[0],
        "leader": f"{prefix}-leader",
        "office": f"{prefix}-office",
        "milestone": milestone[0],
    }


def post_pairs(conn, areas: int) -> list[tuple[str, int]]:
    """(department username, milestone id) with no pending report of that department yet."""
    return conn.execute(
        """
        SELECT u.username, m.id FROM "user" u
        JOIN milestone m ON m.lead_department_id = u.department_id
        WHERE u.role = 'department' AND u.username ~ '^a[0-9]{4}-'
          AND substr(u.username, 2, 4)::int <= %s
          AND NOT EXISTS (SELECT 1 FROM progress_report r WHERE r.milestone_id = m.id
                          AND r.department_id = u.department_id
                          AND r.state IN ('draft', 'submitted', 'returned'))
        ORDER BY m.id
        """,
        (areas,),
    ).fetchall()


def big_plan_facts(conn) -> dict | None:
    row = conn.execute(
        "SELECT m.id FROM milestone m JOIN plan p ON p.id = m.plan_id "
        "LEFT JOIN dependency d ON d.successor_id = m.id OR d.predecessor_id = m.id "
        "WHERE p.code = 'big-plan' GROUP BY m.id ORDER BY count(d.id) DESC, m.id LIMIT 1"
    ).fetchone()
    return {"milestone": row[0]} if row else None


# --- report ---------------------------------------------------------------------------


def table(rows: list[dict], floor_rps: float | None) -> str:
    head = (
        "| page | user | p50 ms | p95 ms | p99 ms | req/s | × floor | errors | bytes/resp "
        "| one at a time: server p50 / max ms |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    lines = []
    for r in rows:
        if r.get("skipped"):
            lines.append(f"| {r['name']} `{r['path']}` | {r['user']} | {r['skipped']} |||||||||")
            continue
        ratio = f"{r['rps'] / floor_rps:.2f}" if floor_rps and "rps" in r else ""
        seq = ""
        if r.get("seq_server_p50_ms") is not None:
            seq = f"{r['seq_server_p50_ms']:.1f} / {r['seq_server_max_ms']:.1f}"
        if r.get("seq_failed"):
            seq += f" ({r['seq_failed']} failed)"
        if r.get("worker_deaths"):
            seq += f" **{r['worker_deaths']} worker deaths**"
        if r.get("load_skipped"):
            load = f"{r['load_skipped']} ||||||"
        elif not r.get("requests"):
            load = f"no request completed within the run ({r.get('errors', 0)} errors) ||||||"
        else:
            load = (
                f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['rps']:.1f} | {ratio} "
                f"| {r['errors']} | {r['bytes_per_response']:,.0f}"
            )
        lines.append(f"| {r['name']} `{r['path']}` | {r['user']} | {load} | {seq} |")
    return head + "\n".join(lines) + "\n"


def pages(facts: dict, big: dict | None, big_only: bool) -> list[dict]:
    """name, path, user (None: anonymous), expected status, method."""
    c, mid = facts["code"], facts["milestone"]
    out = [{"name": "log-in (floor)", "key": "login", "path": "/login", "user": None}]
    if big_only:
        if big is None:
            raise SystemExit("no plan big-plan: gen_province.py --big-plan-milestones 6000")
        b = "/plans/big-plan"
        out += [
            {"name": "big plan tree", "key": "big-tree", "path": b, "user": "big-office"},
            {"name": "big milestone", "key": "big-milestone", "path": f"/milestones/{big['milestone']}"},
            {"name": "big graph page", "key": "big-graph", "path": f"{b}/graph", "user": "big-office"},
            {"name": "big graph.json", "key": "big-graph-json", "path": f"{b}/graph.json"},
            {"name": "big gantt", "key": "big-gantt", "path": f"{b}/gantt", "user": "big-office"},
            {"name": "big gantt.json", "key": "big-gantt-json", "path": f"{b}/gantt.json"},
            {"name": "big 我的工作", "key": "big-my", "path": "/my", "user": "big-dept"},
        ]
        for p in out[1:]:
            p.setdefault("user", "big-office")
        return out
    dept, leader, office = facts["department"], facts["leader"], facts["office"]
    out += [
        {"name": "我的工作", "key": "my", "path": "/my", "user": dept},
        {"name": "plan dashboard", "key": "dashboard", "path": f"/plans/{c}/dashboard", "user": leader},
        {"name": "plan tree", "key": "tree", "path": f"/plans/{c}", "user": leader},
        {"name": "星级测算", "key": "stars", "path": f"/plans/{c}/stars", "user": leader},
        {"name": "indicators", "key": "indicators", "path": f"/plans/{c}/indicators", "user": dept},
        {"name": "review queue", "key": "review", "path": "/review", "user": office},
        {"name": "plans (province)", "key": "plans", "path": "/plans", "user": "province"},
        {"name": "province view", "key": "province", "path": "/province", "user": "province"},
        {"name": "admin users", "key": "admin-users", "path": "/admin/users", "user": "admin"},
        {"name": "reminder log", "key": "admin-reminders", "path": "/admin/reminders", "user": "admin"},
        {"name": "milestone", "key": "milestone", "path": f"/milestones/{mid}", "user": dept},
        {"name": "graph.json", "key": "graph-json", "path": f"/plans/{c}/graph.json", "user": leader},
        # The open API (issue 13): the department's overdue milestones, with a token.
        {
            "name": "API milestones",
            "key": "api",
            "path": "/api/v1/milestones?mine=true&overdue=true",
            "user": dept,
            "token": True,
        },
        {
            "name": "report submission (POST)",
            "key": "post",
            "path": "/milestones/<id>/report",
            "user": "many",
        },
    ]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DB)
    ap.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS)
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    ap.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    ap.add_argument("--timeout", type=int, default=60, help="gunicorn worker timeout (s)")
    ap.add_argument("--clients", type=int, default=20, help="concurrent connections")
    ap.add_argument("--threads-client", type=int, default=2, help="wrk threads")
    ap.add_argument("--duration", type=int, default=10, help="seconds per page")
    ap.add_argument("--sequential", type=int, default=30, help="one-at-a-time requests per page (0: none)")
    ap.add_argument("--budget", type=float, default=15, help="s per page: warm-up, one at a time")
    ap.add_argument("--max-page-ms", type=float, default=2000, help="no load pass above this")
    ap.add_argument("--area", type=int, default=1, help="whose accounts and plan (a0001 …)")
    ap.add_argument("--post-areas", type=int, default=1000, help="areas whose departments submit reports")
    ap.add_argument("--pages", default="", help="comma-separated keys (default: all)")
    ap.add_argument("--big-plan", action="store_true", help="the big plan's pages instead")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--access-log", action="store_true", help="gunicorn access log too")
    ap.add_argument("--keep-log", type=Path, help="copy the server log here")
    args = ap.parse_args(argv)
    if args.redis_url.rstrip("/").endswith(("/15", "/10", "/11", "/12", "/13")):
        raise SystemExit("refusing a Redis database that tests use")

    wrk = ensure_wrk()
    if wrk is None:
        raise SystemExit("wrk is missing (apt-get install -y wrk)")
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # log-in throttle, cached pages

    env = dict(
        os.environ,
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        STARPATH_ENV="production",
        STARPATH_AS_OF=AS_OF,
        SECRET_KEY=secrets.token_hex(32),
        API_RATE_LIMIT=str(10**9),  # the per-token limit would cap the load pass: measure the page
        PYTHONFAULTHANDLER="1",  # a worker that crashes leaves its Python stack in the log
    )
    conn = db_connect(args.database_url)
    facts = area_facts(conn, args.area)
    big = big_plan_facts(conn)
    todo = pages(facts, big, args.big_plan)
    if args.pages:
        keys = set(args.pages.split(",")) | {"login"}
        todo = [p for p in todo if p["key"] in keys]

    work = Path(tempfile.mkdtemp(prefix="bench_web."))
    log_path = work / "gunicorn.log"
    started = time.time()
    server = start_server(args, env, log_path)
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers on :{args.port}; wrk {args.clients} "
        f"connections × {args.duration} s per page; log {log_path}",
        flush=True,
    )
    results = []
    try:
        cookies = {}
        for user in sorted({p["user"] for p in todo if p["user"] not in (None, "many")}):
            cookies[user] = login(args.port, user)
        tokens = {p["user"]: api_token(env, p["user"]) for p in todo if p.get("token")}
        for p in todo:
            deaths_before = death_count(log_path.read_text(errors="replace"))
            row = {k: p[k] for k in ("name", "key", "path")}
            row["user"] = p["user"] or "anonymous"
            row.update(deaths_before=deaths_before, log_path=str(log_path), workers=args.workers)
            if p["key"] == "post":
                pairs = post_pairs(conn, args.post_areas)
                row.update(post_bench(args, pairs))
                results.append(row)
                print_row(row)
                continue
            cookie = tokens[p["user"]] if p.get("token") else cookies.get(p["user"], "")
            t0 = time.time()
            try:
                status, _, _ = request(args.port, "GET", p["path"], cookie)  # check
                for _ in range(args.workers * 2 if status == 200 else 0):  # warm every worker
                    if time.time() - t0 > args.budget:
                        break
                    request(args.port, "GET", p["path"], cookie)
            except OSError as exc:  # a worker died under it
                status = f"no answer ({type(exc).__name__})"
            if status != 200:
                row["skipped"] = f"answered {status}"
                results.append(row)
                print_row(row)
                continue
            if args.sequential:
                row.update(sequential(args, p["path"], cookie, log_path))
            one = row.get("seq_server_p50_ms") or row.get("seq_client_p50_ms") or 0
            if one > args.max_page_ms:
                row["load_skipped"] = f"one request takes {one / 1000:.1f} s: no load pass"
            else:
                row.update(run_wrk(wrk, args, p["path"], cookie, 200, work))
                drain(args)
            results.append(row)
            print_row(row)
    finally:
        log_text = log_path.read_text(errors="replace")  # before the shutdown's own lines
        stop_server(server)
        if args.keep_log:
            shutil.copy(log_path, args.keep_log)
    deaths = worker_deaths(log_text, args.workers)
    floor = next((r["rps"] for r in results if r["key"] == "login" and "rps" in r), None)
    md = table(results, floor)
    print()
    print(
        f"StarPath web benchmark: {args.workers} gunicorn {args.worker_class} workers, {args.clients} "
        f"clients, {args.duration} s per page, as of {AS_OF}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print()
    print(md)
    print(
        f"worker deaths: {deaths['signalled']} signalled, {deaths['exited']} exited, "
        f"{deaths['timeouts']} timeouts ({deaths['boots_after_start']} workers booted after the start)"
    )
    slow = [
        r
        for r in results
        if r.get("seq_server_p50_ms") is not None
        and r["user"] not in ("anonymous",)
        and r["seq_server_p50_ms"] > 10
    ]
    if slow:
        print(
            "signed-in pages above 10 ms (server p50, one at a time): " + ", ".join(r["name"] for r in slow)
        )
    for r in results:
        if r.get("ran_out_of_milestones"):
            created = r["statuses"].get("302 created", 0)
            print(
                f"WARNING: {r['name']} ran out of fresh (department, milestone) pairs: only {created} of "
                f"{r['requests']} answers created a report (regenerate the database for a clean run)"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "seconds": time.time() - started,
                    "results": results,
                    "worker_deaths": deaths,
                    "floor_rps": floor,
                    "markdown": md,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    return 0


def post_bench(args, pairs) -> dict:
    """Log in the departments (one log-in each), read each one's CSRF token from a report
    form, then submit reports over distinct (department, milestone) pairs."""
    by_user: dict[str, list[int]] = {}
    for username, mid in pairs:
        by_user.setdefault(username, []).append(mid)
    # Enough pairs for the run (measured: a few hundred submissions a second), over as few log-ins
    # as possible, logged in four at a time (each log-in is a deliberate scrypt check).
    from concurrent.futures import ThreadPoolExecutor

    need = max(100, int(args.duration * 400))
    chosen, count = [], 0
    for username, mids in by_user.items():
        if count >= need:
            break
        chosen.append((username, mids))
        count += len(mids)

    def prepare(item):
        username, mids = item
        cookie = login(args.port, username)
        status, headers, html = request(args.port, "GET", f"/milestones/{mids[0]}/report", cookie)
        if status != 200:
            return []
        cookie = merge_cookies(cookie, headers["set-cookie"])
        token = csrf_token(html)
        return [(cookie, token, mid) for mid in mids]

    with ThreadPoolExecutor(args.workers) as pool:
        prepared = list(pool.map(prepare, chosen))
    jobs = [job for part in prepared for job in part]
    users = sum(1 for part in prepared if part)
    # Interleave users so concurrent clients do not all hit one department.
    jobs.sort(key=lambda j: (j[2] % 97, j[2]))
    out = run_wrk_posts(ensure_wrk(), args, jobs, Path(tempfile.mkdtemp(prefix="bench-posts-")))
    out["post_users"] = users
    out["post_pairs"] = len(jobs)
    return out


def print_row(row: dict) -> None:
    if "deaths_before" in row:
        log_text = Path(row.pop("log_path")).read_text(errors="replace")
        row.pop("workers")
        row["worker_deaths"] = death_count(log_text) - row.pop("deaths_before")
    if row.get("skipped"):
        print(f"  {row['name']:<28} {row['skipped']}", flush=True)
        return
    if row.get("load_skipped"):
        print(f"  {row['name']:<28} {row['load_skipped']}", flush=True)
        return
    seq = ""
    if row.get("seq_server_p50_ms") is not None:
        p50, top = row["seq_server_p50_ms"], row["seq_server_max_ms"]
        seq = f"  one-at-a-time server p50 {p50:.1f} ms max {top:.1f} ms"
    extra = f"  {row['statuses']}" if "statuses" in row else ""
    print(
        f"  {row['name']:<28} p50 {row['p50_ms']:7.1f} p95 {row['p95_ms']:7.1f} p99 {row['p99_ms']:7.1f} ms "
        f"{row['rps']:7.1f} req/s errors {row['errors']}{seq}{extra}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
