"""Stored star forecasts: pages read these, a background job writes them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class ForecastRun(db.Model):
    """One computed forecast of a plan: the scoring, gap, graph and forecast results.

    data_key fingerprints every input (values, statuses, dates, dependencies, the
    clock date); a recompute that finds the same key writes nothing, and two
    racing recomputes cannot both store one (unique key). data_version is the plan's
    data_version the inputs were read at (read before them, so it is never newer than
    the data); a plan whose latest run has its current data_version, the clock date as
    as_of and this engine_version needs no recompute (workflows.forecast_recompute).
    """

    __tablename__ = "forecast_run"
    __table_args__ = (
        UniqueConstraint("plan_id", "data_key"),
        Index("ix_forecast_run_latest", "plan_id", "computed_at", "id"),  # the latest run
        Index("ix_forecast_run_plan_as_of", "plan_id", "as_of"),  # the run known on a day
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    as_of: Mapped[date]  # the clock date whose data were used
    target_date: Mapped[date]
    data_time: Mapped[datetime | None]  # when the newest datum used was recorded (UTC)
    data_key: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    samples: Mapped[int] = mapped_column(Integer, default=10000)
    data_version: Mapped[int | None]
    engine_version: Mapped[int | None]
    result: Mapped[dict] = mapped_column(JSON)
    # The headline (app.dashboard.runs.headline) in plain columns, filled from result
    # whenever a run is written, so the province view sorts and pages in SQL without
    # reading any result document. p_target is None when the result has no headline.
    score: Mapped[float | None] = mapped_column(Float)  # current total
    stars: Mapped[int | None]  # current stars
    p_target: Mapped[float | None] = mapped_column(Float)
    p50: Mapped[float | None] = mapped_column(Float)  # median score on the assessment date
    median_stars: Mapped[int | None]
    target_stars: Mapped[int | None]
    headline_as_of: Mapped[date | None]  # the result's own dates (headline prefers them)
    headline_target_date: Mapped[date | None]

    plan = relationship("Plan")


HEADLINE_COLUMNS = (
    "score",
    "stars",
    "p_target",
    "p50",
    "median_stars",
    "target_stars",
    "headline_as_of",
    "headline_target_date",
)


def median_stars_of(probabilities: list[float]) -> int:
    """The star level the forecast reaches in at least half of the samples."""
    below = 0.0
    for stars in range(len(probabilities) - 1, -1, -1):
        below += probabilities[stars]
        if below >= 0.5 - 1e-9:
            return stars
    return 0


def headline_columns(result: dict | None, as_of: date | None, target_date: date | None) -> dict:
    """{column: value} of the headline columns for a stored result (all None without one)."""
    result = result or {}
    fc = result.get("forecast") or {}
    if not (all(k in fc for k in ("p_target", "p50", "probabilities")) and "current" in result):
        return dict.fromkeys(HEADLINE_COLUMNS)
    return {
        "score": result["current"]["total"],
        "stars": result["current"]["stars"],
        "p_target": fc["p_target"],
        "p50": fc["p50"],
        "median_stars": median_stars_of(fc["probabilities"]),
        "target_stars": int(result.get("target_stars") or 0),
        "headline_as_of": date.fromisoformat(str(result.get("as_of") or as_of)[:10]),
        "headline_target_date": date.fromisoformat(str(result.get("target_date") or target_date)[:10]),
    }


@event.listens_for(ForecastRun, "before_insert")
@event.listens_for(ForecastRun, "before_update")
def _fill_headline(_mapper, _connection, run: ForecastRun) -> None:
    for key, value in headline_columns(run.result, run.as_of, run.target_date).items():
        setattr(run, key, value)


class PlanStatusCount(db.Model):
    """A plan's 三色 counts (as its 驾驶舱 shows them) stored for the province view.

    Valid while day is the clock date, data_version the plan's, run_id its latest stored
    run (whose forecast finishes the rules read) and nothing else moved: a change of a
    report, 督办 or 三色 threshold (not counted in data_version) deletes the row
    (app.status.stored_counts). Written by the hourly refresh after it looks at a plan, and
    by a page for its own rows that are missing or stale.
    """

    __tablename__ = "plan_status_count"

    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date]
    data_version: Mapped[int]
    run_id: Mapped[int | None]
    red: Mapped[int] = mapped_column(Integer, default=0)
    yellow: Mapped[int] = mapped_column(Integer, default=0)
    blue: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
