"""Structured logging for the web process: key=value lines on the "starpath" loggers.

- starpath.request: one line per request — request id (also the X-Request-Id response
  header), method, path, status, user id, duration in ms.
- starpath.auth: every log-in attempt (success, failure, throttled; never the password),
  log-outs, password changes, expired and revoked sessions (app/auth, app/sessions.py).
- starpath.access: every refused authorisation — 401 and 403 answers, a signed-in user's
  404 (the scoped loaders' answer outside scope), and pages that need a log-in.

The loggers propagate to the root logger, so pytest's caplog and a server's own logging
set-up see them; without any root handler they write to stderr.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid

from flask import Flask, g, request
from flask_login import AnonymousUserMixin, current_user
from flask_login.signals import user_unauthorized
from sqlalchemy import inspect

from app.models import User

request_log = logging.getLogger("starpath.request")
access_log = logging.getLogger("starpath.access")


class RequestIdFilter(logging.Filter):
    """Gives every record logged during a request that request's id (record.request_id)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _current_request_id()
        return True


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        message = record.getMessage()
        line = f"time={moment}.{int(record.msecs):03d}Z level={record.levelname} logger={record.name}"
        if "request_id=" not in message:
            line += f" request_id={getattr(record, 'request_id', None) or '-'}"
        line += " " + message
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _current_request_id() -> str | None:
    try:
        return g.get("request_id")
    except RuntimeError:  # outside a request
        return None


def _user_id() -> str:
    try:
        user = current_user._get_current_object()
        if isinstance(user, AnonymousUserMixin):
            return "-"
        # The identity of the row, not its attributes: after a commit they are expired, and
        # reading one would load the user again just to log it.
        identity = inspect(user).identity if isinstance(user, User) else None
        return str(identity[0]) if identity else str(user.id)
    except Exception:  # the user could not be loaded (database down): log the request anyway
        return "?"


def init_app(app: Flask) -> None:
    root = logging.getLogger("starpath")
    if root.level == logging.NOTSET:
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    if not getattr(root, "_starpath_handler", False) and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(KeyValueFormatter())
        root.addHandler(handler)
        root._starpath_handler = True
    for name in ("starpath.request", "starpath.access", "starpath.auth"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RequestIdFilter) for f in logger.filters):
            logger.addFilter(RequestIdFilter())

    @app.before_request
    def start_request():
        g.request_id = uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        rid = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-Id"] = rid
        started = g.get("request_started")
        duration = (time.perf_counter() - started) * 1000 if started else 0.0
        user = _user_id()
        status = response.status_code
        if request.endpoint != "auth.login" and (status in (401, 403) or (status == 404 and user.isdigit())):
            access_log.warning(
                "event=denied request_id=%s method=%s path=%s status=%s user=%s address=%s",
                rid,
                request.method,
                _quote(request.path),
                status,
                user,
                request.remote_addr,
                extra={"request_id": rid},
            )
        request_log.info(
            "event=request request_id=%s method=%s path=%s status=%s user=%s duration_ms=%.1f",
            rid,
            request.method,
            _quote(request.path),
            status,
            user,
            duration,
            extra={"request_id": rid},
        )
        return response

    @user_unauthorized.connect_via(app)
    def log_login_required(sender, **extra):
        access_log.warning(
            "event=denied reason=login_required method=%s path=%s status=302 user=- address=%s",
            request.method,
            _quote(request.path),
            request.remote_addr,
        )


def _quote(value: str) -> str:
    """A value safe for a key=value line: no spaces, quotes or line breaks unescaped."""
    if value and all(c.isprintable() and c not in ' "=' for c in value):
        return value
    return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
