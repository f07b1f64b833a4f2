"""The load-driving half of scripts/bench_web.py: gunicorn started and stopped, worker
deaths read from its log, log-in and CSRF over plain HTTP, `wrk` for a page under load,
Python processes for the report submission, and the one-request-at-a-time pass that
reads each request's server time from the app's log. bench_web.py says what to measure.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
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
        "--config",
        str(ROOT / "scripts" / "deploy" / "gunicorn.conf.py"),
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
        cmd[7:7] = ["--threads", str(args.threads)]
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
    return _wrk_summary(cmd)[0]


def _wrk_summary(cmd: list[str]) -> tuple[dict, dict]:
    """Run wrk: (the figures every row has, wrk's own summary) from its WRKJSON line."""
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out}")
    raw = json.loads(line[len("WRKJSON ") :])
    seconds = raw["duration_us"] / 1e6
    row = {
        "requests": raw["requests"],
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["p50"] / 1000,
        "p95_ms": raw["p95"] / 1000,
        "p99_ms": raw["p99"] / 1000,
        "max_ms": raw["max"] / 1000,
        "errors": raw["bad_status"] + raw["socket_errors"],
        "bytes_per_response": raw["bytes"] / raw["requests"] if raw["requests"] else 0,
    }
    return row, raw


WRK_POST_LUA = r"""
-- Report submissions: each request takes the next prepared (cookie, token, milestone) job
-- of this thread's share, so no two requests submit for the same pair. Past the end of
-- its share a thread starts again (answered "302 pending": counted apart).
local threads, count = {}, 0
function setup(thread)
  count = count + 1
  thread:set("first", count)
  table.insert(threads, thread)
end
local JOBS = {JOBS_TABLE}
function init(args)
  created, pending, bad, step, n = 0, 0, 0, THREADS, first - 1
end
function request()
  n = n + step
  if n > #JOBS then n = first end
  local job = JOBS[n]
  return wrk.format("POST", "/milestones/" .. job[3] .. "/report",
    {["Cookie"] = job[1], ["Content-Type"] = "application/x-www-form-urlencoded"},
    "csrf_token=" .. job[2] .. "&percent=50&claimed_status=in_progress&action=submit&version=" ..
    "&text=%E5%8E%8B%E6%B5%8B%EF%BC%9A%E6%9C%AC%E6%9C%88%E6%8E%A8%E8%BF%9B%E6%83%85%E5%86%B5%E3%80%82")
end
function response(status, headers, body)
  local where = headers["Location"] or headers["location"] or ""
  if status == 302 and string.find(where, "/milestones/", 1, true) then created = created + 1
  elseif status == 302 then pending = pending + 1
  else bad = bad + 1 end
end
function done(summary, latency, requests)
  local c, p, b = 0, 0, 0
  for _, t in ipairs(threads) do c = c + t:get("created"); p = p + t:get("pending"); b = b + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"max": %d, "created": %d, "pending": %d, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, c, p, b, e.connect + e.read + e.write + e.timeout))
end
"""


def run_wrk_posts(wrk: str, args, jobs: list, lua_dir: Path) -> dict:
    """Report submissions driven by wrk like the pages (one cheap client for every row):
    jobs are (cookie, CSRF token, milestone id), shared out over wrk's threads."""

    def lua_string(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    rows = ",\n".join(f"{{{lua_string(c)}, {lua_string(t)}, {m}}}" for c, t, m in jobs)
    script = lua_dir / "posts.lua"
    lua = WRK_POST_LUA.replace("{JOBS_TABLE}", "{\n" + rows + "\n}")
    script.write_text(lua.replace("THREADS", str(args.threads_client)))
    cmd = [wrk, f"-t{args.threads_client}", f"-c{args.clients}", f"-d{args.duration}s", "--timeout", "60s"]
    cmd += ["-s", str(script), f"http://{HOST}:{args.port}/"]
    row, raw = _wrk_summary(cmd)
    row["statuses"] = {"302 created": raw["created"], "302 pending": raw["pending"]}
    row["ran_out_of_milestones"] = raw["pending"] > 0
    return row


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
