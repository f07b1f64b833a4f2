"""Bearer-token authentication and the per-token rate limit of /api/v1.

Only `Authorization: Bearer TOKEN` authenticates the API: a session cookie does not (the
request's user is set from the token alone), so a page cannot be made to call the API
with its visitor's rights, and the API is exempt from CSRF safely."""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import timedelta

from flask import current_app, g
from redis.exceptions import RedisError

from app.api import tokens
from app.api.errors import error_response
from app.clock import utcnow
from app.extensions import db, login_manager
from workflows.queue import redis_connection

log = logging.getLogger("starpath.api")
RATE_PREFIX = "starpath:api:rate:"
LAST_USED_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def bearer(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate():
    """before_request of every API blueprint: 401 without a usable token, 429 past the limit."""
    from flask import request

    row = tokens.find(bearer(request.headers.get("Authorization")))
    now = utcnow()
    if row is None or not row.is_usable(now):
        db.session.rollback()
        return error_response(401, headers={"WWW-Authenticate": 'Bearer realm="starpath"'})
    wait = _over_limit(row.id)
    if wait is not None:
        db.session.rollback()
        return error_response(
            429,
            f"该令牌的请求过于频繁（每 {current_app.config['API_RATE_WINDOW_SECONDS']} 秒最多 "
            f"{current_app.config['API_RATE_LIMIT']} 次），请 {wait} 秒后重试。",
            headers={"Retry-After": str(wait)},
        )
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_EVERY:
        row.last_used_at = now
        db.session.commit()
    g.api_token_id = row.id
    # The user for this request: Flask-Login's current_user, so the page code paths apply.
    login_manager._update_request_context_with_user(row.user)
    return None


def _over_limit(token_id: int) -> int | None:
    """Seconds to wait when the token made API_RATE_LIMIT requests in the last
    API_RATE_WINDOW_SECONDS (a sliding window: one sorted set of request times per token in
    Redis; refused requests are not counted). With Redis down the limit is not enforced: it
    protects the server's load, not a secret, and the API must not stop with the queue."""
    limit = current_app.config["API_RATE_LIMIT"]
    window = current_app.config["API_RATE_WINDOW_SECONDS"]
    moment = time.time()
    key = f"{RATE_PREFIX}{token_id}"
    try:
        redis = redis_connection()
        pipe = redis.pipeline()
        pipe.zremrangebyscore(key, 0, moment - window)
        pipe.zcard(key)  # counted, not read: a busy token's window holds thousands
        counted = pipe.execute()[1]
        if counted >= limit:
            # Free again once enough of the counted requests have left the window: the
            # time of the one that must leave (ranks are oldest first).
            [(_member, oldest)] = redis.zrange(key, counted - limit, counted - limit, withscores=True)
            return max(1, math.ceil(oldest + window - moment))
        pipe = redis.pipeline()
        pipe.zadd(key, {f"{moment}:{uuid.uuid4().hex[:8]}": moment})
        pipe.expire(key, window + 5)
        pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("event=api_rate_limit_unavailable error=%r", type(exc).__name__)
    return None
