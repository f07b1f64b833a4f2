"""Stored star forecasts: pages read these, a background job writes them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
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

    plan = relationship("Plan")
