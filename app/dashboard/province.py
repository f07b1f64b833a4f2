"""The province view: every area's plan on one row (score and stars, P(target), overdue
and 三色 counts, the trend since last month), sorted, searched and paged in SQL.

Scores, stars and P(target) are the headline columns of each plan's latest stored run
(ForecastRun.score …, filled from its result when stored: what its 星级测算 page shows);
the 三色 counts are the stored rows of app.status.stored_counts, recomputed for the rows
shown when missing or stale; the trend compares with the latest run whose data date is at
least 30 days before today.

A fixed number of queries whatever the number of areas: one aggregate (totals, matches,
stale rows), the page's plan ids in order (joining only what the sort key needs), their
rows, and the refresh of the page's stale counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from app import listing
from app.dashboard.runs import Change, Headline, change
from app.engines import status as rules
from app.engines.standards import available_codes, load_standard
from app.extensions import db
from app.models import ForecastRun, Plan, PlanStatusCount, Region
from app.models.forecast import HEADLINE_COLUMNS
from app.stars.present import prob
from app.status import stored_counts

TREND_DAYS = 30
PER_PAGE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class RegionRef:
    name: str


@dataclass(frozen=True)
class PlanRef:
    """What the province rows show of a plan (plain columns, no ORM object)."""

    id: int
    code: str
    title: str
    target_stars: int | None
    target_date: date | None
    standard_code: str | None
    region: RegionRef


@dataclass
class AreaRow:
    plan: PlanRef
    standard: str  # the standard's title
    counts: rules.Counts
    now: Headline | None
    trend: Change | None
    trend_day: date  # the trend compares with what was known on this day
    overdue: int


@dataclass
class Totals:
    """The whole visible province (not only the page or the search)."""

    plans: int = 0
    matched: int = 0  # plans the search finds
    stale: int = 0  # plans whose stored counts are older than today's data (not on this page)
    red: int = 0
    yellow: int = 0
    blue: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.blue + self.done


@dataclass
class AreaPage(listing.Paged):
    rows: list[AreaRow]
    totals: Totals
    sort: str
    direction: str
    q: str
    page: int
    per_page: int
    recomputed: int = 0  # stale or missing counts recomputed (and stored) for this page

    @property
    def total(self) -> int:  # for the pager (Paged): the areas the search matched
        return self.totals.matched


@cache
def _standard_title(code: str | None) -> str:
    if not code:
        return "未指定"
    try:
        return load_standard(code)["title"]
    except Exception:  # an unknown code still shows the plan
        return code


@cache
def _standard_titles() -> dict[str, str]:
    return {code: _standard_title(code) for code in available_codes()}


NOW = aliased(ForecastRun, name="now_run")
BEFORE = aliased(ForecastRun, name="before_run")
COUNTS = aliased(PlanStatusCount, name="counts")


def _known_run_id(day: date):
    """SQL: the plan's latest run whose data date is on or before `day` (runs.run_known_on)."""
    return (
        select(ForecastRun.id)
        .where(ForecastRun.plan_id == Plan.id, ForecastRun.as_of <= day)
        .order_by(ForecastRun.as_of.desc(), ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
        .correlate(Plan)
        .scalar_subquery()
    )


def _has_trend():
    return and_(NOW.p_target.is_not(None), BEFORE.p_target.is_not(None), NOW.id != BEFORE.id)


def _standard_expr():
    titles = _standard_titles()
    if not titles:
        return func.coalesce(Plan.standard_code, "未指定")
    return case(titles, value=Plan.standard_code, else_=func.coalesce(Plan.standard_code, "未指定"))


# The whitelist of ?sort= keys: column label and the SQL value rows are ordered by.
COLUMNS = {
    "region": ("区域", lambda: Region.name),
    "plan": ("计划", lambda: Plan.title),
    "standard": ("标准", _standard_expr),
    "target": ("目标", lambda: Plan.target_stars),
    "score": ("得分", lambda: NOW.score),
    "stars": ("星级", lambda: NOW.stars),
    "p_target": ("达标概率", lambda: NOW.p_target),
    "overdue": ("逾期", lambda: COUNTS.overdue),
    "red": ("红", lambda: COUNTS.red),
    "yellow": ("黄", lambda: COUNTS.yellow),
    "blue": ("蓝", lambda: COUNTS.blue),
    "done": ("完成", lambda: COUNTS.done),
    "trend_score": ("得分变化", lambda: case((_has_trend(), NOW.score - BEFORE.score))),
    "trend_p": ("概率变化", lambda: case((_has_trend(), NOW.p_target - BEFORE.p_target))),
}
DEFAULT_SORT = "region"


def sort_key(key: str | None, direction: str | None) -> tuple[str, str]:
    """An unknown key or direction replaced by the default."""
    return (key if key in COLUMNS else DEFAULT_SORT, direction if direction in ("asc", "desc") else "asc")


def _order(key: str, direction: str) -> list:
    """Missing values (no stored run, no trend) last either way; ties by plan code and id."""
    value = COLUMNS[key][1]()
    return [value.is_(None), value.desc() if direction == "desc" else value.asc(), Plan.code, Plan.id]


SEARCHED = (Region.name, Plan.title, Plan.code)  # the columns the search box looks in


def _run_columns(run, prefix: str) -> list:
    return [
        run.id.label(f"{prefix}_id"),
        *(getattr(run, c).label(f"{prefix}_{c}") for c in HEADLINE_COLUMNS),
    ]


# Sort keys that need each plan's latest run (and the month-old one) joined to order by.
_RUN_KEYS = {"score", "stars", "p_target", "trend_score", "trend_p"}
_TREND_KEYS = {"trend_score", "trend_p"}
_COUNT_KEYS = {"overdue", "red", "yellow", "blue", "done"}


def _with_runs(query, today: date, trend: bool = True, plans=None):
    """Join each plan's latest run (NOW) and, with trend, the month-old one (BEFORE). Their ids
    come from a derived table (one index look-up per plan and run) so the database does not
    evaluate the look-ups once per candidate run row; plans: a condition limiting it."""
    cols = [Plan.id.label("plan_id"), _latest_run_id().label("now_id")]
    if trend:
        cols.append(_known_run_id(today - timedelta(days=TREND_DAYS)).label("before_id"))
    ids = select(*cols)
    if plans is not None:
        ids = ids.where(plans)
    ids = ids.subquery("run_ids")
    query = query.outerjoin(ids, ids.c.plan_id == Plan.id).outerjoin(NOW, NOW.id == ids.c.now_id)
    if trend:
        query = query.outerjoin(BEFORE, BEFORE.id == ids.c.before_id)
    return query


def _page_ids(plan_filter, today: date, q: str, key: str, direction: str, offset: int, limit: int | None):
    """The ids of one page in order: only what the sort key needs is joined (ordering by
    region reads no run at all)."""
    query = select(Plan.id).join(Region, Region.id == Plan.region_id).where(plan_filter)
    if key in _RUN_KEYS:
        query = _with_runs(query, today, trend=key in _TREND_KEYS, plans=plan_filter)
    if key in _COUNT_KEYS:
        query = query.outerjoin(COUNTS, COUNTS.plan_id == Plan.id)
    query = listing.matching(query, q, *SEARCHED)
    query = query.order_by(*_order(key, direction)).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def _rows_query(today: date, ids: list[int]):
    """Everything a row shows, for these plans."""
    is_fresh = stored_counts.fresh(COUNTS, Plan, today)
    query = select(
        Plan.id,
        Plan.code,
        Plan.title,
        Plan.target_stars,
        Plan.target_date,
        Plan.standard_code,
        Region.name.label("region_name"),
        *_run_columns(NOW, "now"),
        *_run_columns(BEFORE, "before"),
        *(getattr(COUNTS, c).label(f"c_{c}") for c in stored_counts.COUNT_COLUMNS),
        case((is_fresh, 1), else_=0).label("fresh"),
    ).join(Region, Region.id == Plan.region_id)
    return _with_runs(query, today).outerjoin(COUNTS, COUNTS.plan_id == Plan.id).where(Plan.id.in_(ids))


def _fetch(today: date, ids: list[int]):
    """The rows of these plans, in the order of ids."""
    if not ids:
        return []
    by_id = {r.id: r for r in db.session.execute(_rows_query(today, ids))}
    return [by_id[i] for i in ids if i in by_id]


def _latest_run_id():
    return (
        select(ForecastRun.id)
        .where(ForecastRun.plan_id == Plan.id)
        .order_by(ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
        .correlate(Plan)
        .scalar_subquery()
    )


def _totals(plan_filter, today: date, q: str) -> Totals:
    """One aggregate over the visible plans' stored rows."""
    is_fresh = stored_counts.fresh(COUNTS, Plan, today)
    matched = listing.contains(q, *SEARCHED)  # counted, not filtered: the totals are the province's
    cols = [
        func.count(Plan.id),
        func.count(Plan.id) if matched is None else func.sum(case((matched, 1), else_=0)),
        func.sum(case((is_fresh, 0), else_=1)),
        *(func.coalesce(func.sum(getattr(COUNTS, c)), 0) for c in stored_counts.COUNT_COLUMNS),
    ]
    row = db.session.execute(
        select(*cols)
        .select_from(Plan)
        .join(Region, Region.id == Plan.region_id)
        .outerjoin(COUNTS, COUNTS.plan_id == Plan.id)
        .where(plan_filter)
    ).one()
    plans, found, stale, red, yellow, blue, done, overdue = (int(x or 0) for x in row)
    return Totals(plans, found, stale, red, yellow, blue, done, overdue)


def _plain(x):
    """A stored float shown as the result showed it: 85, not 85.0 (halves kept)."""
    return int(x) if x is not None and float(x).is_integer() else x


def _headline(row, prefix: str) -> Headline | None:
    p = getattr(row, f"{prefix}_p_target")
    if p is None:
        return None
    as_of = getattr(row, f"{prefix}_headline_as_of")
    target_date = getattr(row, f"{prefix}_headline_target_date")
    settled = as_of >= target_date
    return Headline(
        run_id=getattr(row, f"{prefix}_id"),
        as_of=as_of,
        target_stars=getattr(row, f"{prefix}_target_stars"),
        target_date=target_date,
        p_target=p,
        p_text=("已达到" if p >= 1 else "未达到") if settled else prob(p),
        settled=settled,
        p50=_plain(getattr(row, f"{prefix}_p50")),
        median_stars=getattr(row, f"{prefix}_median_stars"),
        current_total=_plain(getattr(row, f"{prefix}_score")),
        current_stars=getattr(row, f"{prefix}_stars"),
    )


def _area_row(row, counts: dict, since: date) -> AreaRow:
    c = rules.Counts(red=counts["red"], yellow=counts["yellow"], blue=counts["blue"], done=counts["done"])
    now = _headline(row, "now")
    plan = PlanRef(
        row.id,
        row.code,
        row.title,
        row.target_stars,
        row.target_date,
        row.standard_code,
        RegionRef(row.region_name),
    )
    return AreaRow(
        plan=plan,
        standard=_standard_title(row.standard_code),
        counts=c,
        now=now,
        trend=change(now, _headline(row, "before")),
        trend_day=since,
        overdue=counts["overdue"],
    )


def _rows(result, today: date) -> tuple[list[AreaRow], dict[int, tuple[dict, dict | None]]]:
    """AreaRows, with the stale or missing counts among them recomputed and stored;
    {plan id: (new counts, old counts or None)} of those recomputed."""
    result = list(result)
    stale = [r.id for r in result if not r.fresh]
    fresh_counts = stored_counts.refresh(stale, today) if stale else {}
    since = today - timedelta(days=TREND_DAYS)
    rows, changed = [], {}
    for r in result:
        stored = {c: getattr(r, f"c_{c}") for c in stored_counts.COUNT_COLUMNS}
        counts = fresh_counts.get(r.id)
        if counts is None:
            counts = stored
        else:
            changed[r.id] = (counts, stored if stored["red"] is not None else None)
        rows.append(_area_row(r, counts, since))
    return rows, changed


def area_page(
    plan_filter,
    today: date,
    *,
    q: str = "",
    sort=None,
    direction=None,
    page: int = 1,
    per_page: int | None = None,
) -> AreaPage:
    """One page of the visible plans, searched by region, plan title or code, sorted on the
    server; the caller commits (counts recomputed for the page's stale rows)."""
    key, direction = sort_key(sort, direction)
    per_page = per_page or PER_PAGE
    totals = _totals(plan_filter, today, q)
    pages = max(1, -(-totals.matched // per_page))
    page = min(max(page, 1), pages)
    ids = _page_ids(plan_filter, today, q, key, direction, (page - 1) * per_page, per_page)
    rows, changed = _rows(_fetch(today, ids), today)
    for new, old in changed.values():  # the totals as stored after this page's refresh
        for c in stored_counts.COUNT_COLUMNS:
            setattr(totals, c, getattr(totals, c) + new[c] - (old[c] if old else 0))
        totals.stale -= 1
    return AreaPage(rows, totals, key, direction, q, page, per_page, recomputed=len(changed))


def all_areas(plan_filter, today: date, sort=None, direction=None) -> tuple[list[AreaRow], int]:
    """Every visible plan (the xlsx export), sorted as the page, and how many stale counts
    were recomputed (and stored) for it."""
    key, direction = sort_key(sort, direction)
    ids = _page_ids(plan_filter, today, "", key, direction, 0, None)
    rows, changed = _rows(_fetch(today, ids), today)
    return rows, len(changed)


_URLS: dict[tuple, str] = {}
URLS_KEPT = 20_000


def plan_url(endpoint: str, code: str) -> str:
    """url_for(endpoint, code=code), kept per process: a page of 50 areas links each three
    times, and building an address is most of a row's rendering."""
    from flask import request, url_for

    key = (request.script_root, endpoint, code)
    url = _URLS.get(key)
    if url is None:
        if len(_URLS) >= URLS_KEPT:
            _URLS.clear()
        url = _URLS[key] = url_for(endpoint, code=code)
    return url
