"""Each plan's 三色 counts (红/黄/蓝/完成 and overdue) stored in plan_status_count, so the
province view sorts, pages and totals in SQL instead of working out every area's colours
on each request.

A stored row holds for the day it was computed for, the plan's data_version and the latest
stored forecast run (whose finish dates the rules read). What the rules also read but
data_version does not count — a new latest run, a returned report, a 督办, the plan's 三色
thresholds — deletes the plan's row in the same flush (register), so a missing or stale row
is recomputed by the next page that shows it (refresh) or by the hourly refresh after it
looks at the plan.
The counts are app.status.many_plans.plan_counts: the same rules and answer as the
plan's own 驾驶舱.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, delete, event, inspect, select
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.extensions import db
from app.models import ForecastRun, Milestone, Notice, Plan, PlanStatusCount, ProgressReport, ReminderPolicy
from app.status.many_plans import latest_runs, plan_counts

COUNT_COLUMNS = ("red", "yellow", "blue", "done", "overdue")
_TABLES = {"notice", "progress_report", "reminder_policy", "forecast_run"}
NOTICE_FIELDS = ("state", "reply_due", "replied_at", "milestone_id")  # what a 督办's colour reads
REFRESH_BATCH = 200  # plans per batch in the hourly refresh


# -- what makes a stored row stale ------------------------------------------------------


def fresh(counts, plan, today: date, latest_run_id=None):
    """SQL: the stored row (an alias of plan_status_count, outer-joined) holds for this plan
    today. A new or re-dated run deletes the row (_before_flush), so pages need not look up
    each plan's latest run; given latest_run_id (an expression) the run is checked too, as
    the hourly refresh does (it heals a row written by a page racing a new run)."""
    clauses = [counts.plan_id.is_not(None), counts.day == today, counts.data_version == plan.data_version]
    if latest_run_id is not None:
        clauses.append(counts.run_id.is_not_distinct_from(latest_run_id))
    return and_(*clauses)


def latest_run_id(plan_id_column):
    """SQL: the id of the plan's latest stored run (correlated, one index look-up per plan)."""
    return (
        select(ForecastRun.id)
        .where(ForecastRun.plan_id == plan_id_column)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )


# -- recomputing --------------------------------------------------------------------------


def refresh(plan_ids, today: date) -> dict[int, dict]:
    """Recompute and store the counts of these plans for today, in a fixed number of
    queries whatever their number; {plan id: stored values}. The caller commits.

    The data versions are read before the data, so a row is never newer than what it
    counts (a change racing the count leaves it stale, not wrong)."""
    ids = sorted(set(plan_ids))
    if not ids:
        return {}
    versions = dict(db.session.execute(select(Plan.id, Plan.data_version).where(Plan.id.in_(ids))).all())
    runs = latest_runs(list(versions))
    counts = plan_counts(list(versions), today, runs)
    now = utcnow()
    rows = []
    for plan_id, version in versions.items():
        c = counts[plan_id]
        rows.append(
            {
                "plan_id": plan_id,
                "day": today,
                "data_version": version,
                "run_id": runs[plan_id].id if plan_id in runs else None,
                "red": c.counts.red,
                "yellow": c.counts.yellow,
                "blue": c.counts.blue,
                "done": c.counts.done,
                "overdue": c.overdue,
                "computed_at": now,
            }
        )
    if rows:
        _upsert(rows)
    return {row["plan_id"]: row for row in rows}


def _upsert(rows: list[dict]) -> None:
    """Insert or replace: two workers refreshing one plan at once both succeed."""
    table = PlanStatusCount.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(rows)
    kept = ("day", "data_version", "run_id", *COUNT_COLUMNS, "computed_at")
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.plan_id], set_={c: stmt.excluded[c] for c in kept}
    )
    db.session.execute(stmt)


def stale_plan_ids(today: date, plan_ids=None) -> list[int]:
    """Plans whose stored counts are missing or stale (one query)."""
    counts = PlanStatusCount.__table__
    query = (
        select(Plan.id)
        .outerjoin(counts, counts.c.plan_id == Plan.id)
        .where(~fresh(counts.c, Plan, today, latest_run_id(Plan.id)))
        .order_by(Plan.id)
    )
    if plan_ids is not None:
        query = query.where(Plan.id.in_(list(plan_ids)))
    return list(db.session.scalars(query))


def refresh_stale(today: date, plan_ids=None) -> int:
    """Recompute every missing or stale row (of these plans), REFRESH_BATCH plans per
    commit; the number of plans recomputed."""
    ids = stale_plan_ids(today, plan_ids)
    for start in range(0, len(ids), REFRESH_BATCH):
        refresh(ids[start : start + REFRESH_BATCH], today)
        db.session.commit()
    return len(ids)


# -- forgetting rows when what data_version does not count changes --------------------------


def register(session) -> None:
    """Listen on the (scoped) session once."""
    if not event.contains(session, "before_flush", _before_flush):
        event.listen(session, "before_flush", _before_flush)
        event.listen(session, "do_orm_execute", _before_statement)


def _ids(state, key) -> set:
    hist = state.attrs[key].load_history()
    return {v for v in (*hist.added, *hist.unchanged, *hist.deleted) if v is not None}


def _changed(state, *keys) -> bool:
    return any(state.attrs[k].history.has_changes() for k in keys)


def _before_flush(session: Session, _context, _instances) -> None:
    plan_ids, milestone_ids = set(), set()
    with session.no_autoflush:
        for kind, objs in (("new", session.new), ("dirty", session.dirty), ("deleted", session.deleted)):
            for obj in objs:
                if isinstance(obj, ForecastRun):
                    # a new latest run (or an old one made latest again) moves the finish dates
                    if kind != "dirty" or _changed(inspect(obj), "computed_at", "plan_id"):
                        plan_ids |= _ids(inspect(obj), "plan_id")
                    continue
                if not isinstance(obj, (Notice, ProgressReport, ReminderPolicy)):
                    continue
                state = inspect(obj)
                if isinstance(obj, ReminderPolicy):
                    if kind != "dirty" or _changed(state, "status_soon_days", "status_behind_points"):
                        plan_ids |= _ids(state, "plan_id")
                    continue
                if isinstance(obj, ProgressReport):
                    # only a returned report moves a colour (an approval bumps data_version)
                    if "returned" not in _ids(state, "state"):
                        continue
                elif kind == "dirty" and not _changed(state, *NOTICE_FIELDS):
                    continue
                found = _ids(state, "milestone_id")
                if found:
                    milestone_ids |= found
                elif obj.milestone is not None:
                    plan_ids.add(obj.milestone.plan_id)
        _forget(session, plan_ids, milestone_ids)


def _forget(session: Session, plan_ids: set, milestone_ids: set) -> None:
    if not (plan_ids or milestone_ids):
        return
    table = PlanStatusCount.__table__
    via = select(Milestone.plan_id).where(Milestone.id.in_(sorted(milestone_ids)))
    session.connection().execute(
        delete(table).where(table.c.plan_id.in_(sorted(plan_ids)) | table.c.plan_id.in_(via))
    )


def _before_statement(state) -> None:
    """A Core INSERT/UPDATE/DELETE on those tables through the session: rows cannot be told
    apart, so every stored count is forgotten (rare; only costs recomputing)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    table = getattr(table, "__table__", table)
    if getattr(table, "name", None) in _TABLES:
        state.session.connection().execute(delete(PlanStatusCount.__table__))
