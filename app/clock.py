"""The one clock every date rule reads.

"Today" is the Beijing date (UTC+8, the date people here read), or the date
pinned by STARPATH_AS_OF (YYYY-MM-DD) for demos, training and back-testing.

Two kinds of timestamps, both stored as naive UTC (README, "Time"):
- event_time(): when a domain event happens (a report submitted, approved or
  returned, an indicator value entered or reviewed, a 督办 issued or answered,
  an extension granted). With a pinned clock it is the pinned date at the
  current Beijing time of day, so the event shows on the pinned day on every
  page and every "known on a date" rule sees it on that day.
- utcnow(): real time, for what the system itself records (audit rows, forecast
  runs, reminders and their deliveries, logins, heartbeats); pages label it 系统时间.
"""

from datetime import UTC, date, datetime

from flask import current_app, has_app_context

from app.dates import from_local, to_local


def pinned() -> date | None:
    """The pinned date (STARPATH_AS_OF), or None when the clock is real."""
    return current_app.config.get("STARPATH_AS_OF") if has_app_context() else None


def today() -> date:
    """The pinned date, else today's date in Beijing."""
    return pinned() or to_local(utcnow()).date()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def event_time() -> datetime:
    """When a domain event happens, in naive UTC: real time, or with a pinned clock the
    pinned date at the current Beijing time of day (so it falls on the pinned day in
    Beijing time, whatever the real UTC hour). Audit rows keep the real time (utcnow)."""
    now = utcnow()
    as_of = pinned()
    if not as_of:
        return now
    return from_local(datetime.combine(as_of, to_local(now).time()))
