"""Log-in throttling: refused attempts counted per user name and per client address over a
sliding window (LOGIN_WINDOW_SECONDS); past LOGIN_MAX_FAILURES_PER_NAME or
LOGIN_MAX_FAILURES_PER_ADDRESS every attempt — even with the right password — is answered
429 until the oldest counted failure leaves the window.

Counters live in Redis (one sorted set of failure times per key); when Redis cannot be
reached they go to the login_attempt table, so throttling holds either way. Unknown user
names are counted like known ones: the answer must not tell them apart.
"""

from __future__ import annotations

import logging
import math
import uuid
from datetime import UTC, datetime

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import delete, func, select

from app import sessions
from app.extensions import db
from app.models import LoginAttempt
from workflows.queue import redis_connection

log = logging.getLogger("starpath.auth")
PREFIX = "starpath:login:"


def name_key(username: str) -> str:
    return "name:" + (username or "").strip().lower()[:64]


def address_key(address: str | None) -> str:
    return "addr:" + (address or "-")[:64]


def _limits(username: str, address: str | None) -> list[tuple[str, int]]:
    config = current_app.config
    return [
        (name_key(username), config["LOGIN_MAX_FAILURES_PER_NAME"]),
        (address_key(address), config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ]


def retry_after(username: str, address: str | None) -> int | None:
    """Seconds until a log-in may be tried again, or None when it may be tried now."""
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    moment = sessions.now()
    wait = 0.0
    for key, limit in _limits(username, address):
        times = _recent(key, moment - window)
        if len(times) >= limit:
            # Blocked until enough failures have left the window to fall below the limit.
            wait = max(wait, times[len(times) - limit] + window - moment)
    return max(1, math.ceil(wait)) if wait > 0 else None


def record_failure(username: str, address: str | None) -> None:
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    moment = sessions.now()
    for key, _limit in _limits(username, address):
        try:
            redis = redis_connection()
            pipe = redis.pipeline()
            pipe.zadd(PREFIX + key, {f"{moment}:{uuid.uuid4().hex[:8]}": moment})
            pipe.zremrangebyscore(PREFIX + key, 0, moment - window)
            pipe.expire(PREFIX + key, window + 60)
            pipe.execute()
        except (RedisError, OSError) as exc:
            _redis_down(exc)
            db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < _dt(moment - window)))
            db.session.add(LoginAttempt(key=key, attempted_at=_dt(moment)))
            db.session.commit()


def clear_name(username: str) -> None:
    """A successful log-in forgets the name's failures (the address's stay)."""
    key = name_key(username)
    try:
        redis_connection().delete(PREFIX + key)
    except (RedisError, OSError) as exc:
        _redis_down(exc)
    # Failures counted while Redis was down, too (no commit: the log-in commits).
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))


def _recent(key: str, since: float) -> list[float]:
    """Failure times (ascending) for the key since the given moment, from both stores."""
    times: list[float] = []
    try:
        found = redis_connection().zrangebyscore(PREFIX + key, since, "+inf", withscores=True)
        times = [score for _member, score in found]
    except (RedisError, OSError) as exc:
        _redis_down(exc)
    rows = db.session.scalars(
        select(LoginAttempt.attempted_at).where(
            LoginAttempt.key == key, LoginAttempt.attempted_at > _dt(since)
        )
    ).all()
    times += [row.replace(tzinfo=UTC).timestamp() for row in rows]
    return sorted(times)


def count_db(key: str) -> int:
    return db.session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key))


def _dt(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC).replace(tzinfo=None)


def _redis_down(exc: Exception) -> None:
    log.warning("event=throttle_fallback store=database error=%r", type(exc).__name__)
