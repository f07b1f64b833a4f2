"""What waits for the plan office's review, counted as the review queue lists it (the same
scoped queries), so the office sees it on its first page."""

from __future__ import annotations

from sqlalchemy import func, select

from app import access
from app.extensions import db
from app.models import Indicator, IndicatorValue, Milestone, ProgressReport


def review_counts(user) -> dict:
    reports = db.session.scalar(
        select(func.count(ProgressReport.id))
        .join(Milestone, ProgressReport.milestone_id == Milestone.id)
        .where(ProgressReport.state == "submitted", access.milestone_filter(user))
    )
    values = db.session.scalar(
        select(func.count(IndicatorValue.id))
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(IndicatorValue.state == "submitted", access.indicator_filter(user))
    )
    return {"reports": reports or 0, "indicator_values": values or 0}
