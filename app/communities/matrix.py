"""The community matrix: communities × the 25 items (met / pending / not met / not
entered), the items that block the most communities first, per-street progress, and the
coverage each plan of the region holds, so the page shows the numbers the indicator and
stars pages use."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from app import clock
from app.communities import coverage
from app.engines import community as rules
from app.extensions import db
from app.forecasting.known import known_values
from app.models import Indicator, Plan, Region


def build(region: Region, community_filter, street_id: int | None) -> dict:
    full = coverage.region_state(region.id)
    state = coverage.region_state(region.id, community_filter)
    visible = [c for c in state.communities if street_id is None or c.street_id == street_id]
    items = coverage.standard_items()

    def cell(c, number):
        item = state.cells.get(c.id, {}).get(number)
        return item.cell if item is not None else "empty"

    blocked = {s["number"]: sum(1 for c in visible if cell(c, s["number"]) != "met") for s in items}
    order = sorted(items, key=lambda s: (-blocked[s["number"]], int(s["number"])))
    rows = [
        {
            "community": c,
            "cells": [(s["number"], cell(c, s["number"])) for s in order],
            "met": state.met.get(c.id, 0),
            "smart": state.is_smart(c.id),
        }
        for c in visible
    ]
    return {
        "required": state.required,
        "columns": order,
        "blocked": blocked,
        "rows": rows,
        "streets": _streets(state),
        "region_total": full.total,
        "region_smart": full.smart,
        "region_rate": full.rate,
        "plans": _plan_values(region),
        "visible_total": len(visible),
        "visible_smart": sum(1 for r in rows if r["smart"]),
        "fmt": rules.fmt,
    }


def _streets(state: coverage.RegionState) -> list[dict]:
    groups = defaultdict(list)
    for c in state.communities:
        groups[c.street_id].append(c)
    out = []
    for communities in groups.values():
        street = communities[0].street
        smart = sum(1 for c in communities if state.is_smart(c.id))
        met = sum(state.met.get(c.id, 0) for c in communities)
        out.append(
            {
                "street": street,
                "total": len(communities),
                "smart": smart,
                "rate": rules.coverage(smart, len(communities)),
                "items_met": met,
                "items_total": len(communities) * coverage.TOTAL_ITEMS,
            }
        )
    return sorted(out, key=lambda s: (-(s["rate"] or 0), s["street"].name))


def _plan_values(region: Region) -> list[dict]:
    """Each plan's 智慧社区覆盖率 as known today (the value the stars page scores)."""
    out = []
    for plan in db.session.scalars(select(Plan).where(Plan.region_id == region.id).order_by(Plan.id)):
        try:
            spec, ind = coverage.coverage_target(plan)
        except ValueError:
            continue
        if spec is None:
            continue
        if ind is None:
            ind = db.session.scalars(
                select(Indicator).where(
                    Indicator.plan_id == plan.id, Indicator.key == f"std-{spec['number']}"
                )
            ).first()
        latest = known_values([ind.id], clock.today()).get(ind.id, [None])[-1] if ind is not None else None
        out.append({"plan": plan, "spec": spec, "indicator": ind, "latest": latest})
    return out
