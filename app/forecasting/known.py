"""Standard values from the database, as known on a date (models only, no request
machinery); forecast_inputs.py builds the forecast's inputs on the same rules.

Rules (what "known on `as_of`" means):
- An indicator value counts when it is approved, its `as_of` is on or before the
  date, and it was reviewed (else created) before the end of that date. The
  latest such value wins (by as_of, then review time, then id); `value_json`
  if set, else `value_number`.
- A milestone's state on the date: its current fields when no approved lead
  report was reviewed after the date and its actual finish (if any) is not
  after it; otherwise the last approved lead report reviewed by then
  (claimed status and percent; finished on the milestone's actual finish if
  that is known by then, else on the report's review date), or not started.
  Its due date on the date ignores extensions granted later.
- Direct entries for standard indicators the plan does not track are Indicator
  rows with key `std-<number>` in table 标准直填, holding approved values
  stamped at the clock's event time (app.clock.event_time).
- Department on-time records on the date: done milestones finished by their due
  date are on time; done late, or still open past their due date, are late.
- What a plan value feeds to the standard: standard_input() (the linked part of a
  compound indicator, else the value itself); what a finished milestone delivers:
  declared_deliveries() (only the values its targets declare, never a guess).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import audit, clock
from app.engines import quantities
from app.engines.scoring import ScoringError, score
from app.engines.standards import load_standard
from app.extensions import db
from app.models import Indicator, IndicatorValue, Milestone, Plan

DIRECT_TABLE = "标准直填"
DIRECT_PREFIX = "std-"
DIRECT_POSITION = 100000
DELIVERING_OPS = (">=", ">", "==", "<=", "<")


def end_of(day: date) -> datetime:
    """The first instant after `day` in Beijing time, as naive UTC (16:00 UTC on `day`):
    reviews stamped strictly before it are known on the day. Event times are naive UTC
    and pages show them on their Beijing date (app.clock.event_time, app.dates)."""
    from app.dates import from_local

    return from_local(datetime.combine(day + timedelta(days=1), time()))


def is_direct(ind: Indicator) -> bool:
    return ind.key.startswith(DIRECT_PREFIX) and ind.table_name == DIRECT_TABLE


def value_of(row: IndicatorValue):
    return row.value_json if row.value_json is not None else row.value_number


def known_values(indicator_ids, as_of: date) -> dict[int, list[IndicatorValue]]:
    """Approved values known on as_of, per indicator, oldest first."""
    if not indicator_ids:
        return {}
    rows = db.session.scalars(
        select(IndicatorValue)
        .where(
            IndicatorValue.indicator_id.in_(list(indicator_ids)),
            IndicatorValue.state == "approved",
            IndicatorValue.as_of <= as_of,
            func.coalesce(IndicatorValue.reviewed_at, IndicatorValue.created_at) < end_of(as_of),
        )
        .order_by(IndicatorValue.as_of, IndicatorValue.reviewed_at, IndicatorValue.id)
    )
    out = defaultdict(list)
    for row in rows:
        if value_of(row) is not None:
            out[row.indicator_id].append(row)
    return out


def plan_indicators(plan: Plan) -> list[Indicator]:
    """The plan's indicators, tracked ones first (by position), direct entries last."""
    rows = db.session.scalars(
        select(Indicator)
        .where(Indicator.plan_id == plan.id)
        .options(selectinload(Indicator.milestones))  # the forecast reads every indicator's milestones
        .order_by(Indicator.position, Indicator.id)
    ).all()
    return sorted(rows, key=is_direct)


def _points(std, number, value):
    return score(std, {number: value})["indicators"][number]["points"]


def _standard_of(ind: Indicator) -> dict | None:
    code = ind.plan.standard_code if ind.plan is not None else None
    if not code:
        return None
    try:
        return quantities.standard_of(code)
    except ValueError:
        return None


def standard_input(ind: Indicator, raw):
    """The value, in the standard's input form (spec/scoring.md), that `raw` (a stored
    value of the plan indicator `ind`: a number or a dict) feeds to the standard
    indicator `ind` is linked to; None when nothing can be fed.

    - not linked, or no value: None;
    - the link names a part (`ind.standard_part`: one measured quantity of a compound
      plan indicator, e.g. 公交电子站牌覆盖率 of 公共交通来车实时预报率): that part's
      number in the value {"realtime": 61.5, "stops": 12.0} -> 12.0; a value without
      the part (or a bare number, or a level) feeds nothing;
    - a compound plan indicator whose parts are the fields of the standard's compound
      input (视频监控完善程度 -> coverage/intact): the value restricted to those fields,
      or {"level": n} as it is;
    - otherwise the value itself.
    A result the scoring engine would refuse (wrong shape, a negative rate) is None.
    """
    if raw is None or not ind.standard_indicator:
        return None
    std = _standard_of(ind)
    if std is None:
        return None
    return quantities.feed(std, ind.standard_indicator, ind.standard_part, ind.parts, raw)


def _latest_value(ind: Indicator, as_of: date | None):
    rows = known_values([ind.id], as_of or clock.today()).get(ind.id, [])
    return value_of(rows[-1]) if rows else None


def declared_values(milestone: Milestone, ind: Indicator, as_of: date | None = None) -> list:
    """The values `milestone`'s targets declare for the plan indicator `ind`, in the
    plan indicator's own form (a number; per part for a compound indicator).

    A target declares a value when it names the indicator (`indicator`, and `part`
    for a compound one); the loader allows one per indicator and part in a milestone.
    Targets on parts make one value: the declared parts laid over the latest value
    known on `as_of` (default: the clock's today) when that is a per-part value, else
    the declared parts alone. [] when the milestone declares nothing for `ind`.
    """
    targets = [t for t in milestone.targets or [] if t.get("indicator") == ind.key]
    if not targets:
        return []
    whole = [t["value"] for t in targets if t.get("part") is None]
    if whole:
        return whole[:1]
    declared = {t["part"]: t["value"] for t in targets}
    latest = _latest_value(ind, as_of)
    if isinstance(latest, dict) and "level" not in latest:
        return [{**latest, **declared}]
    return [declared]


def declared_deliveries(milestone: Milestone, ind: Indicator, as_of: date | None = None) -> list:
    """The values `milestone` delivers to the standard indicator `ind` feeds, in the
    standard's input form: declared_values() passed through standard_input().

    So a milestone that declares nothing delivers nothing (the forecast lists such a
    link as an assumption, it does not guess a value); a declared part that is not the
    linked one (来车实时预报率 when 电子站牌覆盖率 feeds the standard) delivers nothing
    to the standard; for a compound standard input with one field declared (服务部门数
    of 公共安全视频图像应用), the field is merged into the latest known structured
    value (known on `as_of`, default the clock's today), and when there is none the
    delivery is skipped. An unlinked indicator has no deliveries.
    """
    out = []
    for raw in declared_values(milestone, ind, as_of):
        value = standard_input(ind, raw)
        if value is not None:
            out.append(value)
    return out


def standard_values(plan: Plan, as_of: date) -> tuple[dict, dict]:
    """(values object for the plan's standard, sources per standard number) known on as_of."""
    values, sources, _ = standard_series(plan, as_of)
    return values, sources


def standard_series(plan: Plan, as_of: date) -> tuple[dict, dict, dict]:
    """(values, sources, {number: [(IndicatorValue, standard input), ...] oldest first})
    known on as_of: what every page scores, and the history it comes from.

    Each plan indicator feeds what standard_input() says (a compound indicator only
    its linked part). Several indicators on one number: the one whose latest value
    scores more (ties: tracked before direct, then plan order). Values nothing can be
    fed from are skipped.
    """
    if not plan.standard_code:
        return {}, {}, {}
    std = load_standard(plan.standard_code)
    known = {i["number"] for i in std["indicators"]}
    inds = [i for i in plan_indicators(plan) if i.standard_indicator in known]
    history = known_values([i.id for i in inds], as_of)
    values, sources, series = {}, {}, {}
    for ind in inds:
        rows, number = history.get(ind.id), ind.standard_indicator
        if not rows:
            continue
        row = rows[-1]
        value = standard_input(ind, value_of(row))
        if value is None:
            continue
        try:
            points = _points(std, number, value)
        except ScoringError:
            continue
        if number in sources and sources[number]["points"] >= points:
            continue
        values[number] = value
        sources[number] = {
            "indicator_id": ind.id,
            "indicator_key": ind.key,
            "indicator_name": ind.name,
            "part": ind.standard_part,
            "part_name": ind.part_map.get(ind.standard_part, {}).get("name") if ind.standard_part else None,
            "value_id": row.id,
            "as_of": row.as_of.isoformat(),
            "direct": is_direct(ind),
            "points": points,
        }
        fed = ((r, standard_input(ind, value_of(r))) for r in rows[:-1])
        series[number] = [(r, v) for r, v in fed if v is not None] + [(row, value)]
    return values, sources, series


def set_direct_value(plan: Plan, number: str, value, user, as_of: date) -> IndicatorValue:
    """Record an approved direct value for a standard indicator the plan does not track (no commit)."""
    if not plan.standard_code:
        raise ValueError(f"计划 {plan.code} 未指定评价标准")
    std = load_standard(plan.standard_code)
    number = str(number)
    spec = next((i for i in std["indicators"] if i["number"] == number), None)
    if spec is None:
        raise ValueError(f"标准 {std['code']} 中没有第 {number} 项")
    inds = plan_indicators(plan)
    if any(i.standard_indicator == number and not is_direct(i) for i in inds):
        raise ValueError(f"标准第 {number} 项已由计划指标跟踪，请录入该指标的数值")
    points = _points(std, number, value)  # raises ScoringError (a ValueError) on a bad value
    ind = next((i for i in inds if i.key == DIRECT_PREFIX + number), None)
    if ind is None:
        ind = Indicator(
            plan_id=plan.id,
            key=DIRECT_PREFIX + number,
            table_name=DIRECT_TABLE,
            category=spec["category"],
            number=number,
            name=spec["name"],
            definition=spec["description"],
            unit=spec["unit"],
            star=spec["star"],
            standard_indicator=number,
            standard_quantity=spec["name"],
            standard_unit=spec["unit"],
            position=DIRECT_POSITION + int(number),
        )
        db.session.add(ind)
        db.session.flush()
    row = IndicatorValue(
        indicator_id=ind.id,
        as_of=as_of,
        value_number=None if isinstance(value, dict) else float(value),
        value_json=value if isinstance(value, dict) else None,
        source=DIRECT_TABLE,
        state="approved",
        entered_by_id=getattr(user, "id", None),
        reviewed_by_id=getattr(user, "id", None),
        reviewed_at=clock.event_time(),
    )
    db.session.add(row)
    audit.record(
        user,
        "indicator.direct_value",
        row,
        f"直接录入标准第 {number} 项（{spec['name']}）：{value}（{points} 分）",
        after={"number": number, "value": value, "as_of": as_of.isoformat()},
        region_id=plan.region_id,
    )
    return row


# -- forecast inputs --------------------------------------------------------------
