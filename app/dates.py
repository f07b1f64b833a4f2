"""Dates as people here read them (Flask-free: background jobs and engines import it too).

Timestamps are stored in UTC; pages show them in Beijing time (UTC+8, no DST).
Domain event times follow the clock (app.clock.event_time); real-clock times of
the system (audit rows, sending) are shown with cn_system_datetime, labelled 系统时间.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

LOCAL_OFFSET = timedelta(hours=8)  # Beijing time


def to_local(value: datetime) -> datetime:
    """A naive UTC timestamp as naive Beijing time."""
    return value + LOCAL_OFFSET


def from_local(value: datetime) -> datetime:
    """A naive Beijing time as naive UTC."""
    return value - LOCAL_OFFSET


def local_date(value: datetime) -> date:
    """The Beijing date of a naive UTC timestamp."""
    return to_local(value).date()


def cn_date(value) -> str:
    """2021年10月31日 (a datetime is read as UTC and shown on its Beijing date; an ISO
    date string, as stored results hold them, is read as that date)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value).date()
    elif isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value) -> str:
    """UTC timestamp shown in Beijing time: 2021年3月15日 10:02."""
    if value is None:
        return "—"
    local = to_local(value)
    return f"{cn_date(local.date())} {local:%H:%M}"


SYSTEM_TIME = "系统时间"


def cn_system_datetime(value) -> str:
    """A real-clock timestamp (audit, sending, logins) labelled as such:
    系统时间 2026年11月30日 20:15 — never read against a pinned date."""
    if value is None:
        return "—"
    return f"{SYSTEM_TIME} {cn_datetime(value)}"


def iso_day(value) -> date | None:
    """A date from a date, a datetime or an ISO string (None stays None)."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])
