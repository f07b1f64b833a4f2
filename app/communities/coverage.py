"""A region's communities read against the community standard, and the coverage rate
they give: 智慧社区 (approved as met on at least the region's required number of items,
all 25 by default) over all communities, in percent — written as a dated approved
measurement of the star standard's 智慧社区覆盖率 for every plan of the region, on the
plan indicator linked to it (else as a 标准直填 entry), whenever it changes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import audit, clock
from app.engines import community as rules
from app.engines.standards import load_standard
from app.extensions import db
from app.forecasting.known import is_direct, set_direct_value
from app.models import Community, CommunityItem, CommunityRule, Indicator, IndicatorValue, Plan

COVERAGE_NAME = "智慧社区覆盖率"
COVERAGE_UNIT = "%"
SOURCE = "智慧社区评估"
STANDARD_CODE = "sd-community-2019"
TOTAL_ITEMS = 25


def standard_items() -> list[dict]:
    return load_standard(STANDARD_CODE)["items"]


def required_items(region_id: int) -> int:
    rule = db.session.get(CommunityRule, region_id)
    return rule.required_items if rule is not None else TOTAL_ITEMS


@dataclass
class RegionState:
    required: int
    communities: list[Community]
    cells: dict[int, dict[str, CommunityItem]] = field(default_factory=dict)  # community id → number → item
    met: dict[int, int] = field(default_factory=dict)  # community id → items approved as met

    @property
    def total(self) -> int:
        return len(self.communities)

    def is_smart(self, community_id: int) -> bool:
        return rules.is_smart(self.met.get(community_id, 0), self.required)

    @property
    def smart(self) -> int:
        return sum(1 for c in self.communities if self.is_smart(c.id))

    @property
    def rate(self) -> float | None:
        return rules.coverage(self.smart, self.total)


def region_state(region_id: int, community_filter=None) -> RegionState:
    """Every community of the region (or those `community_filter` lets through) with its items."""
    stmt = select(Community).where(Community.region_id == region_id).options(selectinload(Community.street))
    if community_filter is not None:
        stmt = stmt.where(community_filter)
    communities = db.session.scalars(stmt.order_by(Community.street_id, Community.name, Community.id)).all()
    state = RegionState(required_items(region_id), list(communities))
    ids = [c.id for c in communities]
    cells: dict[int, dict[str, CommunityItem]] = defaultdict(dict)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for item in db.session.scalars(select(CommunityItem).where(CommunityItem.community_id.in_(chunk))):
            cells[item.community_id][item.number] = item
    state.cells = dict(cells)
    state.met = {cid: sum(1 for i in row.values() if i.cell == "met") for cid, row in cells.items()}
    return state


@dataclass
class RegionCounts:
    """How many of the region's communities are 智慧社区, without loading them: what the
    coverage figure and the 星级测算 gap step need (the matrix needs region_state)."""

    required: int
    smart: int
    total: int

    @property
    def rate(self) -> float | None:
        return rules.coverage(self.smart, self.total)


def region_counts(region_id: int) -> RegionCounts:
    required = required_items(region_id)
    total = db.session.scalar(select(func.count(Community.id)).where(Community.region_id == region_id))
    met = db.session.scalars(
        select(func.count(CommunityItem.id))
        .join(Community, Community.id == CommunityItem.community_id)
        .where(Community.region_id == region_id, CommunityItem.state == "approved", CommunityItem.met)
        .group_by(CommunityItem.community_id)
    )
    return RegionCounts(required, sum(1 for n in met if rules.is_smart(n, required)), total or 0)


def coverage_target(plan: Plan) -> tuple[dict | None, Indicator | None]:
    """The plan standard's 智慧社区覆盖率 indicator and the plan indicator that tracks it
    (None: entered as 标准直填). Refuses a link whose unit is not the standard's %."""
    if not plan.standard_code:
        return None, None
    std = load_standard(plan.standard_code)
    spec = next((i for i in std.get("indicators", []) if i["name"] == COVERAGE_NAME), None)
    if spec is None:
        return None, None
    tracked = db.session.scalars(
        select(Indicator).where(Indicator.plan_id == plan.id, Indicator.standard_indicator == spec["number"])
    ).all()
    tracked = [i for i in tracked if not is_direct(i)]
    if not tracked:
        return spec, None
    ind = tracked[0]
    unit = ind.standard_unit or ind.unit
    if unit != COVERAGE_UNIT or ind.standard_part or ind.parts:
        raise ValueError(
            f"计划指标“{ind.name}”的单位为“{unit or '无'}”，"
            f"与标准的{COVERAGE_NAME}（%）不一致，不能写入覆盖率。"
        )
    return spec, ind


def _latest(indicator_id: int) -> IndicatorValue | None:
    return db.session.scalars(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == indicator_id, IndicatorValue.state == "approved")
        .order_by(IndicatorValue.as_of.desc(), IndicatorValue.reviewed_at.desc(), IndicatorValue.id.desc())
    ).first()


def record_coverage(region_id: int, user, as_of=None, stamp=None) -> list[int]:
    """Write today's coverage for every plan of the region where it differs from the latest
    approved value (no commit); returns the ids of the plans written (to recompute).
    `as_of` / `stamp` (the measurement's date and review time) are for the demo's past."""
    as_of = as_of or clock.today()
    state = region_counts(region_id)
    rate = state.rate
    if rate is None:
        return []
    note = f"{state.smart} 个智慧社区 / {state.total} 个社区（每个社区须至少 {state.required} 项审核达标）"
    written = []
    for plan in db.session.scalars(select(Plan).where(Plan.region_id == region_id).order_by(Plan.id)):
        spec, ind = coverage_target(plan)
        if spec is None:
            continue
        if ind is None:
            direct = db.session.scalars(
                select(Indicator).where(
                    Indicator.plan_id == plan.id, Indicator.key == f"std-{spec['number']}"
                )
            ).first()
            last = _latest(direct.id) if direct is not None else None
            if last is not None and last.value_number == rate:
                continue
            row = set_direct_value(plan, spec["number"], rate, user, as_of)
            row.source, row.note = SOURCE, note
            if stamp is not None:
                row.created_at = row.reviewed_at = stamp
        else:
            last = _latest(ind.id)
            if last is not None and last.value_number == rate and last.source == SOURCE:
                continue
            row = IndicatorValue(
                indicator_id=ind.id,
                as_of=as_of,
                value_number=rate,
                source=SOURCE,
                note=note,
                state="approved",
                entered_by_id=getattr(user, "id", None),
                reviewed_by_id=getattr(user, "id", None),
                reviewed_at=stamp or clock.event_time(),
            )
            if stamp is not None:
                row.created_at = stamp
            db.session.add(row)
            audit.record(
                user,
                "community.coverage",
                row,
                f"{COVERAGE_NAME}更新为 {rules.fmt(rate)}%（{note}）",
                before={"value": last.value_number if last else None},
                after={"value": rate, "smart": state.smart, "total": state.total},
                region_id=region_id,
            )
        written.append(plan.id)
    return written


def community_steps(ways: list[dict | None], plan: Plan, std: dict) -> None:
    """Name each gap step on 智慧社区覆盖率 in communities: how many more 智慧社区 reach the
    step's column (its condition on the percentage), from the region's communities today."""
    state = None
    for way in ways:
        for step in (way or {}).get("steps", []):
            if step["name"] != COVERAGE_NAME:
                continue
            spec = next(i for i in std["indicators"] if i["number"] == step["number"])
            condition = spec["cells"][step["to_level"] - 1]["condition"] or {}
            if condition.get("op") not in (">=", ">") or spec.get("unit") != COVERAGE_UNIT:
                continue
            state = state or region_counts(plan.region_id)
            if not state.total:
                continue
            needed = rules.communities_needed(state.smart, state.total, condition["op"], condition["value"])
            if needed is not None:
                step["communities"] = {
                    "needed": needed,
                    "smart": state.smart,
                    "total": state.total,
                    "rate": rules.fmt(state.rate or 0),
                }
