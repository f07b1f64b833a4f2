"""Dates as people here read them (Flask-free: background jobs and engines import it too).

Timestamps are stored in UTC; pages show them in Beijing time (UTC+8, no DST).
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


def cn_date(value) -> str:
    """2021年10月31日 (a datetime is read as UTC and shown on its Beijing date)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value) -> str:
    """UTC timestamp shown in Beijing time: 2021年3月15日 10:02."""
    if value is None:
        return "—"
    local = to_local(value)
    return f"{cn_date(local.date())} {local:%H:%M}"


def iso_day(value) -> date | None:
    """A date from a date, a datetime or an ISO string (None stays None)."""
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])
