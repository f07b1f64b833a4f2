"""The one scheduler of periodic jobs: `python -m workflows.scheduler`.

Several may be started (a restart overlapping the old one, two hosts); a Redis
lock with a short lease makes exactly one active, and another takes over within
the lease when it dies. It only enqueues: each periodic job has a fixed job id,
so a tick that finds the previous run still waiting adds nothing, and the jobs
themselves are idempotent, so running one again after Redis lost everything is
harmless. rq's own cron has no single-leader lock and pickles its jobs, hence
this small loop.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import time
import uuid
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LOCK_KEY = "starpath:scheduler:leader"
LAST_KEY = "starpath:scheduler:last:"
LEASE_SECONDS = 30
TICK_SECONDS = 5
HEARTBEAT_SECONDS = 20

# Renew only our own lease: compare-and-expire in one step.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    every_seconds: int
    queue: str = "default"
    title: str = ""


def periodic_jobs(config) -> list[Periodic]:
    return [
        Periodic(
            "reminders-scan",
            "workflows.reminders_scan.scan_job",
            int(config.get("REMINDER_SCAN_SECONDS", 900)),
            "high",
            "扫描到期提醒",
        ),
        Periodic(
            "reminders-send",
            "workflows.reminders_send.send_job",
            int(config.get("REMINDER_SEND_SECONDS", 60)),
            "high",
            "发送提醒",
        ),
        Periodic(
            "forecast-refresh",
            "workflows.forecast_recompute.refresh_all",
            int(config.get("FORECAST_REFRESH_SECONDS", 3600)),
            "low",
            "刷新各计划星级测算",
        ),
        # Issues only from Monday 08:00 Beijing time, once per plan and week (workflows.bulletins).
        Periodic(
            "bulletins-weekly",
            "workflows.bulletins.weekly_job",
            int(config.get("BULLETIN_CHECK_SECONDS", 900)),
            "low",
            "发布每周通报",
        ),
    ]


class Scheduler:
    def __init__(self, app, connection: Redis, jobs: list[Periodic], owner: str | None = None):
        self.app = app
        self.redis = connection
        self.jobs = jobs
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.renew = self.redis.register_script(RENEW)
        self.leader = False
        self.stopping = False
        self.last_beat = 0.0

    def hold_lock(self) -> bool:
        """Take the leader lock if free, or renew it if ours."""
        lease_ms = LEASE_SECONDS * 1000
        if self.redis.set(LOCK_KEY, self.owner, nx=True, px=lease_ms):
            return True
        return bool(self.renew(keys=[LOCK_KEY], args=[self.owner, lease_ms]))

    def release(self) -> None:
        if self.leader and self.redis.get(LOCK_KEY) == self.owner.encode():
            self.redis.delete(LOCK_KEY)
        self.leader = False

    def due(self, job: Periodic, now: float) -> bool:
        last = self.redis.get(LAST_KEY + job.name)
        return last is None or now - float(last) >= job.every_seconds

    def tick(self, now: float | None = None) -> list[str]:
        """One pass: keep or take the lock; if leader, enqueue what is due. Returns names queued."""
        from workflows.queue import enqueue

        now = now or time.time()
        was = self.leader
        self.leader = self.hold_lock()
        if self.leader != was:
            log.info("scheduler %s is %s", self.owner, "active" if self.leader else "standing by")
        if not self.leader:
            return []
        queued = []
        with self.app.app_context():
            for job in self.jobs:
                if self.due(job, now):
                    enqueue(job.func, queue=job.queue, title=job.title, job_id=job.name, timeout=1800)
                    self.redis.set(LAST_KEY + job.name, now)
                    queued.append(job.name)
            if now - self.last_beat >= HEARTBEAT_SECONDS:
                self.heartbeat()
                self.last_beat = now
        return queued

    def heartbeat(self) -> None:
        from app import clock
        from app.extensions import db
        from app.models import JobState
        from workflows.dbutil import upsert

        beat = {"owner": self.owner, "beat": clock.utcnow().isoformat(timespec="seconds")}
        upsert(JobState, {"name": "scheduler", "value": beat, "updated_at": clock.utcnow()}, ["name"])
        db.session.commit()
        db.session.remove()

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        log.info("scheduler %s started: %s", self.owner, ", ".join(j.name for j in self.jobs))
        try:
            while not self.stopping:
                try:
                    for name in self.tick():
                        log.info("queued %s", name)
                except RedisError as exc:  # Redis restarting: try again next tick
                    self.leader = False
                    log.warning("scheduler tick failed: %s", exc)
                time.sleep(TICK_SECONDS)
        finally:
            try:
                self.release()
            except RedisError:
                pass

    def _stop(self, *_):
        self.stopping = True


def main(argv=None):
    parser = argparse.ArgumentParser(description="StarPath scheduler of periodic jobs")
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from app import create_app
    from workflows.queue import redis_connection

    app = create_app()
    Scheduler(app, redis_connection(app), periodic_jobs(app.config)).run()


if __name__ == "__main__":
    main()
