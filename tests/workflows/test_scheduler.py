"""The scheduler: one active among several, fixed job ids, periodic enqueueing."""

from workflows.queue import get_queue, redis_connection
from workflows.scheduler import LOCK_KEY, Periodic, Scheduler

JOBS = [
    Periodic("reminders-scan", "workflows.reminders_scan.scan_job", 900, "high"),
    Periodic("reminders-send", "workflows.reminders_send.send_job", 60, "high"),
]


def test_exactly_one_scheduler_is_active_and_another_takes_over(app):
    conn = redis_connection(app)
    a = Scheduler(app, conn, JOBS, owner="a")
    b = Scheduler(app, conn, JOBS, owner="b")
    assert a.tick(now=1000.0) == ["reminders-scan", "reminders-send"]
    assert b.tick(now=1000.0) == []  # standing by
    assert a.leader and not b.leader
    high = get_queue("high", conn)
    assert sorted(high.job_ids) == ["reminders-scan", "reminders-send"]

    assert a.tick(now=1030.0) == []  # nothing due yet
    assert a.tick(now=1061.0) == ["reminders-send"]  # still waiting in the queue: not doubled
    assert sorted(high.job_ids) == ["reminders-scan", "reminders-send"]

    a.release()  # a stops (or its lease runs out): b takes over on its next tick
    assert b.tick(now=1200.0) == ["reminders-send"]
    assert b.leader and conn.get(LOCK_KEY) == b"b"


def test_after_redis_loses_everything_the_scheduler_starts_again(app):
    conn = redis_connection(app)
    a = Scheduler(app, conn, JOBS, owner="a")
    a.tick(now=1000.0)
    conn.flushdb()
    assert a.tick(now=1001.0) == ["reminders-scan", "reminders-send"]  # lock and schedule rebuilt
    assert sorted(get_queue("high", conn).job_ids) == ["reminders-scan", "reminders-send"]
