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
