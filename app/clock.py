"""The one clock every date rule reads.

STARPATH_AS_OF (YYYY-MM-DD) pins "today" for demos, training and back-testing;
otherwise it is the real local date. Timestamps of events (audit, uploads)
stay real UTC time.
"""

from datetime import UTC, date, datetime

from flask import current_app, has_app_context


def today() -> date:
    if has_app_context():
        as_of = current_app.config.get("STARPATH_AS_OF")
        if as_of:
            return as_of
    return date.today()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def event_time() -> datetime:
    """When a domain event (a submission, an approval) happens, in UTC.

    With a pinned clock (demo, training, back-testing) events land on the
    pinned date, so every date rule that reads them agrees with "today".
    Audit rows keep the real time (utcnow)."""
    now = utcnow()
    as_of = current_app.config.get("STARPATH_AS_OF") if has_app_context() else None
    return datetime.combine(as_of, now.time()) if as_of else now
