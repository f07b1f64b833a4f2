"""The forecast headline of a plan from its stored runs, and its change since an earlier run.

Reads ForecastRun rows only (the recompute job writes them). "A week ago" is the latest
stored run whose data date (as_of) is on or before the given day: what was known then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models import ForecastRun
from app.models.forecast import median_stars_of as median_stars  # one rule for pages and stored columns
from app.stars.present import prob, signed


def run_known_on(plan_id: int, day: date) -> ForecastRun | None:
    """The latest stored run whose data date is on or before `day`."""
    return db.session.scalar(
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan_id, ForecastRun.as_of <= day)
        .order_by(ForecastRun.as_of.desc(), ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Headline:
    run_id: int
    as_of: date
    target_stars: int
    target_date: date
    p_target: float
    p_text: str  # as people read it: "< 0.1%", "37.5%", "> 99.9%"; 已达到/未达到 once settled
    settled: bool  # the data date is on or after the assessment date: no sampling
    p50: int  # median score on the assessment date
    median_stars: int
    current_total: int
    current_stars: int


def readable(run: ForecastRun | None) -> bool:
    result = (run.result or {}) if run is not None else {}
    fc = result.get("forecast") or {}
    return all(k in fc for k in ("p_target", "p50", "probabilities")) and "current" in result


def headline(run: ForecastRun | None) -> Headline | None:
    """The figures a leader reads first, taken as stored (the 星级测算 page shows the same)."""
    if not readable(run):
        return None
    result = run.result
    fc = result["forecast"]
    as_of = date.fromisoformat(str(result.get("as_of") or run.as_of)[:10])
    target_date = date.fromisoformat(str(result.get("target_date") or run.target_date)[:10])
    settled = as_of >= target_date
    p = fc["p_target"]
    return Headline(
        run_id=run.id,
        as_of=as_of,
        target_stars=int(result.get("target_stars") or 0),
        target_date=target_date,
        p_target=p,
        p_text=("已达到" if p >= 1 else "未达到") if settled else prob(p),
        settled=settled,
        p50=fc["p50"],
        median_stars=median_stars(fc["probabilities"]),
        current_total=result["current"]["total"],
        current_stars=result["current"]["stars"],
    )


@dataclass(frozen=True)
class Change:
    since: Headline
    p_points: float  # percentage points
    p50: int
    current_total: int

    @property
    def p_text(self) -> str:
        return f"{signed(self.p_points)} 个百分点"

    @property
    def p50_text(self) -> str:
        return f"{_points(self.p50)} 分"

    @property
    def current_text(self) -> str:
        return f"{_points(self.current_total)} 分"


def _points(x) -> str:
    """A score difference: +3, -2, ±0 (halves kept: +0.5)."""
    return signed(int(x), 0) if float(x).is_integer() else signed(x, 1)


def change(now: Headline | None, before: Headline | None) -> Change | None:
    """How the headline moved since an earlier run (None without two different runs)."""
    if now is None or before is None or now.run_id == before.run_id:
        return None
    return Change(
        since=before,
        p_points=(now.p_target - before.p_target) * 100,
        p50=now.p50 - before.p50,
        current_total=now.current_total - before.current_total,
    )
