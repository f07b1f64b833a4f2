"""Web speed under a bounded load (issue 12): `python scripts/bench_web.py [options]`.

Starts gunicorn (4 sync workers, as scripts/deploy/starpath-web.service runs it) on
PostgreSQL (DATABASE_URL, default database `bench`, filled by scripts/gen_province.py)
and Redis (REDIS_URL, default db 14, flushed first), with STARPATH_ENV=production,
STARPATH_AS_OF=2021-03-15 and a fresh random SECRET_KEY, then drives each page from
a second process on loopback: `wrk` (20 connections by default, a fixed duration per
page) for the pages, Python worker processes for the report submission (it needs a
CSRF token and one milestone per request). Per page: p50 / p95 / p99 latency,
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
import http.client
import json
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "demo-pass-2021"
AS_OF = "2021-03-15"
HOST = "127.0.0.1"

WRK_LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= EXPECTED then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, n, e.connect + e.read + e.write + e.timeout))
end
"""


# --- server ---------------------------------------------------------------------------


def venv_bin(name: str) -> str:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else (shutil.which(name) or name)


def ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install -y wrk) …", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True)
    return shutil.which("wrk")


def start_server(args, env: dict, log_path: Path) -> subprocess.Popen:
    cmd = [
        venv_bin("gunicorn"),
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--bind",
        f"{HOST}:{args.port}",
        "--timeout",
        str(args.timeout),
        "--access-logfile",
        "-" if args.access_log else "/dev/null",
        "wsgi:app",
    ]
    if args.worker_class == "gthread":
        cmd[5:5] = ["--threads", str(args.threads)]
    log = open(log_path, "w")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited ({proc.returncode}); see {log_path}")
        try:
            status, _, _ = request(args.port, "GET", "/login")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def worker_deaths(log_text: str, workers: int) -> dict:
    return {
        "signalled": len(re.findall(r"Worker \(pid:\d+\) was sent SIG\w+", log_text)),
        "exited": len(re.findall(r"Worker \(pid:\d+\) exited with code", log_text)),
        "timeouts": len(re.findall(r"WORKER TIMEOUT", log_text)),
        "boots_after_start": max(0, len(re.findall(r"Booting worker with pid", log_text)) - workers),
    }


def death_count(log_text: str) -> int:
    found = worker_deaths(log_text, 0)
    return found["signalled"] + found["exited"] + found["timeouts"]


# --- HTTP -----------------------------------------------------------------------------


def request(port: int, method: str, path: str, cookie: str = "", body: dict | None = None):
    """(status, headers dict lower-cased with Set-Cookie as a list, body bytes)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    headers = {"Host": f"{HOST}:{port}"}
    data = None
    if cookie.startswith("Bearer "):  # the open API: a token, not a session
        headers["Authorization"] = cookie
    elif cookie:
        headers["Cookie"] = cookie
    if body is not None:
        data = urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    payload = resp.read()
    out = {k.lower(): v for k, v in resp.getheaders()}
    out["set-cookie"] = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
    conn.close()
    return resp.status, out, payload


def merge_cookies(cookie: str, set_cookies: list[str]) -> str:
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    for sc in set_cookies:
        name, value = sc.split(";", 1)[0].split("=", 1)
        jar[name] = value
    return "; ".join(f"{k}={v}" for k, v in jar.items())


CSRF_RE = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: bytes) -> str:
    m = CSRF_RE.search(html)
    if not m:
        raise RuntimeError("no csrf_token in the form")
    return (m.group(1) or m.group(2)).decode()


def api_token(env: dict, username: str) -> str:
    """An `Authorization` value for the open API: a token made by the CLI (its last line)."""
    cmd = [
        venv_bin("flask"),
        "--app",
        "wsgi",
        "api",
        "token",
        "create",
        username,
        "--days",
        "1",
        "--name",
        "bench",
    ]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return "Bearer " + out.strip().splitlines()[-1]


def login(port: int, username: str) -> str:
    """A session cookie for the user (one correct log-in: the throttle counts failures only)."""
    status, headers, html = request(port, "GET", "/login")
    cookie = merge_cookies("", headers["set-cookie"])
    token = csrf_token(html)
    status, headers, _ = request(
        port, "POST", "/login", cookie, {"username": username, "password": PASSWORD, "csrf_token": token}
    )
    if status != 302:
        raise RuntimeError(f"log-in as {username} answered {status}")
    return merge_cookies(cookie, headers["set-cookie"])


# --- load -----------------------------------------------------------------------------


def run_wrk(wrk: str, args, path: str, cookie: str, expected: int, lua_dir: Path) -> dict:
    script = lua_dir / f"expect{expected}.lua"
    if not script.exists():
        script.write_text(WRK_LUA.replace("EXPECTED", str(expected)))
    cmd = [
        wrk,
        f"-t{args.threads_client}",
        f"-c{args.clients}",
        f"-d{args.duration}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
    ]
    if cookie.startswith("Bearer "):
        cmd += ["-H", f"Authorization: {cookie}"]
    elif cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://{HOST}:{args.port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out}")
    raw = json.loads(line[len("WRKJSON ") :])
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "max_ms": raw["max"] / 1000,
        "errors": raw["bad_status"] + raw["socket_errors"],
        "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
    }


def _post_worker(port: int, jobs: list, stop_at: float, queue) -> None:
    """Submit reports one after another until stop_at; jobs: (cookie, token, milestone id)."""
    latencies, statuses, sizes = [], {}, 0
    i = 0
    while time.time() < stop_at and i < len(jobs):
        cookie, token, mid = jobs[i]
        i += 1
        body = {
            "csrf_token": token,
            "percent": "50",
            "claimed_status": "in_progress",
            "text": "压测：本月推进情况。",
            "action": "submit",
            "version": "",
        }
        t0 = time.perf_counter()
        try:
            status, headers, payload = request(port, "POST", f"/milestones/{mid}/report", cookie, body)
        except OSError:
            status, headers, payload = "socket", {}, b""
        latencies.append(time.perf_counter() - t0)
        kind = status
        if status == 302:
            kind = "302 created" if "/milestones/" in headers.get("location", "") else "302 pending"
        statuses[str(kind)] = statuses.get(str(kind), 0) + 1
        sizes += len(payload)
    queue.put((latencies, statuses, sizes, i >= len(jobs)))


def run_posts(args, jobs: list) -> dict:
    """args.clients processes, each submitting from its own slice of (user, milestone) pairs."""
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    slices = [jobs[i :: args.clients] for i in range(args.clients)]
    t0 = time.time()
    stop_at = t0 + args.duration
    procs = [ctx.Process(target=_post_worker, args=(args.port, s, stop_at, queue)) for s in slices]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.time() - t0
    lat = sorted(x for r in results for x in r[0])
    statuses: dict[str, int] = {}
    for r in results:
        for k, v in r[1].items():
            statuses[k] = statuses.get(k, 0) + v
    n = len(lat)
    ok = statuses.get("302 created", 0) + statuses.get("302 pending", 0)
    return {
        "requests": n,
        "rps": n / elapsed if elapsed else 0.0,
        "p50_ms": pct(lat, 50) * 1000,
        "p95_ms": pct(lat, 95) * 1000,
        "p99_ms": pct(lat, 99) * 1000,
        "max_ms": (lat[-1] if lat else 0) * 1000,
        "errors": n - ok,
        "bytes_per_response": sum(r[2] for r in results) / n if n else 0,
        "statuses": statuses,
        "ran_out_of_milestones": any(r[3] for r in results),
    }


def drain(args) -> None:
    """Wait until the requests wrk left queued are done: one probe per worker, in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(args.workers) as pool:
        list(pool.map(lambda _: request(args.port, "GET", "/login"), range(args.workers)))


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


def sequential(args, path: str, cookie: str, log_path: Path) -> dict:
    """One request at a time: client time and the server's own duration_ms (by request id)."""
    client, rids, failed = [], [], 0
    started = time.time()
    for i in range(args.sequential):
        if i >= 3 and time.time() - started > args.budget:
            break
        t0 = time.perf_counter()
        try:
            status, headers, _ = request(args.port, "GET", path, cookie)
        except OSError:  # the worker died under the request (counted from gunicorn's log too)
            failed += 1
            continue
        client.append((time.perf_counter() - t0) * 1000)
        rids.append(headers.get("x-request-id"))
        failed += status != 200
    time.sleep(0.3)  # let the workers flush their log lines
    server = []
    text = log_path.read_text(errors="replace")
    wanted = set(filter(None, rids))
    for m in re.finditer(r"request_id=(\w+) .*?duration_ms=([\d.]+)", text):
        if m.group(1) in wanted:
            server.append(float(m.group(2)))
    server.sort()
    client.sort()
    return {
        "seq_failed": failed,
        "seq_client_p50_ms": statistics.median(client) if client else None,
        "seq_server_p50_ms": statistics.median(server) if server else None,
        "seq_server_max_ms": server[-1] if server else None,
        "seq_samples": len(server),
    }


# --- data -----------------------------------------------------------------------------


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
    ap.add_argument("--post-areas", type=int, default=100, help="areas whose departments submit reports")
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
    # Enough pairs for the run (measured: tens of submissions a second), over as few log-ins
    # as possible, logged in four at a time (each log-in is a deliberate scrypt check).
    from concurrent.futures import ThreadPoolExecutor

    need = max(100, int(args.duration * 40))
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
    out = run_posts(args, jobs)
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
