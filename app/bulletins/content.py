"""What a 通报 says, as plain JSON (stored as issued in Bulletin.data):
the 红/黄 items (app.status), what changed since the previous bulletin and since the
forecast of a week before, the forecast headline of the stored run, and the 考评 table."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.bulletins.assessment_table import department_rows, totals
from app.engines import status as rules
from app.engines.assessment import DEFINITIONS
from app.extensions import db
from app.models import Bulletin, ForecastRun, Plan
from app.status.plan_status import PlanStatus, plan_status

FORMAT = 1  # the shape of `data`; pages read older shapes as they were stored


def week_of(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def _item(row, nodes) -> dict:
    m = row.milestone
    node = nodes.get(m.node_id)
    return {
        "milestone_id": m.id,
        "key": m.key,
        "title": m.title,
        "node": node.title if node else "",
        "department_id": m.lead_department_id,
        "department": m.lead_department.name,
        "colour": row.colour,
        "label": rules.LABELS[row.colour],
        "reasons": list(row.status.reasons),
        "days_late": row.status.days_late,
        "due": m.due_date.isoformat(),
        "baseline_due": m.baseline_due_date.isoformat(),
        "percent": m.percent,
        "points_at_stake": row.points_at_stake,
        "points": [dict(p) for p in row.points],
    }


def items(status: PlanStatus) -> list[dict]:
    """红 then 黄: red as status.red_list orders them, yellow by points at stake, then due."""
    red = status.red_list()
    yellow = sorted(
        (r for r in status.rows.values() if r.colour == rules.YELLOW),
        key=lambda r: (-r.points_at_stake, r.milestone.due_date, r.milestone.id),
    )
    return [_item(r, status.nodes) for r in red + yellow]


def forecast_headline(run: ForecastRun | None) -> dict | None:
    if run is None:
        return None
    result = run.result or {}
    fc = result.get("forecast") or {}
    ceiling = fc.get("ceiling") or {}
    return {
        "run_id": run.id,
        "as_of": run.as_of.isoformat(),
        "target_stars": result.get("target_stars"),
        "target_date": result.get("target_date") or run.target_date.isoformat(),
        "p_target": fc.get("p_target"),
        "p50": fc.get("p50"),
        "ceiling_total": ceiling.get("total"),
        "ceiling_stars": ceiling.get("stars"),
        "current_total": (fc.get("current") or result.get("current") or {}).get("total"),
        "samples": fc.get("samples") or run.samples,
    }


def run_a_week_before(plan_id: int, as_of: date) -> ForecastRun | None:
    """The stored run that was the latest on the data of a week earlier."""
    return db.session.scalar(
        select(ForecastRun)
        .where(ForecastRun.plan_id == plan_id, ForecastRun.as_of <= as_of - timedelta(days=7))
        .order_by(ForecastRun.as_of.desc(), ForecastRun.computed_at.desc(), ForecastRun.id.desc())
        .limit(1)
    )


def previous_bulletin(plan_id: int, week: date) -> Bulletin | None:
    """The latest bulletin of an earlier week (a weekly one before an on-demand one)."""
    return db.session.scalar(
        select(Bulletin)
        .where(Bulletin.plan_id == plan_id, Bulletin.week < week)
        .order_by(Bulletin.week.desc(), (Bulletin.kind == "weekly").desc(), Bulletin.issued_at.desc())
        .limit(1)
    )


def _brief(m, colour_from: str | None, colour_to: str) -> dict:
    return {
        "milestone_id": m.id,
        "title": m.title,
        "department": m.lead_department.name,
        "from": colour_from,
        "from_label": rules.LABELS.get(colour_from, "—") if colour_from else "—",
        "to": colour_to,
        "to_label": rules.LABELS[colour_to],
    }


def changes(status: PlanStatus, previous: Bulletin | None, before: dict | None, now: dict | None) -> dict:
    """Since the previous bulletin's stored colours; the forecast against a week before."""
    out = {"previous": None, "newly_red": [], "no_longer_red": [], "newly_done": [], "colour_changes": []}
    if previous is not None:
        out["previous"] = {
            "id": previous.id,
            "week": previous.week.isoformat(),
            "as_of": previous.as_of.isoformat(),
            "kind": previous.kind,
        }
        old = {int(k): v for k, v in (previous.data.get("colours") or {}).items()}
        for mid, row in sorted(status.rows.items(), key=lambda kv: (kv[1].milestone.due_date, kv[0])):
            was, now_colour = old.get(mid), row.colour
            if was == now_colour:
                continue
            entry = _brief(row.milestone, was, now_colour)
            if now_colour == rules.RED:
                out["newly_red"].append(entry)
            elif was == rules.RED:
                out["no_longer_red"].append(entry)
            if now_colour == rules.DONE:
                out["newly_done"].append(entry)
            elif was is not None and rules.RED not in (was, now_colour):
                out["colour_changes"].append(entry)
    out["forecast"] = None
    if before is not None and now is not None:
        out["forecast"] = {
            "before_run_id": before["run_id"],
            "before_as_of": before["as_of"],
            "p_target_before": before["p_target"],
            "p_target_now": now["p_target"],
            "p50_before": before["p50"],
            "p50_now": now["p50"],
        }
    return out


def build(plan: Plan, today: date, kind: str) -> dict:
    """The content of the plan's bulletin on `today` (nothing is written)."""
    status = plan_status(plan, today)
    week = week_of(today)
    headline = forecast_headline(status.run)
    earlier = run_a_week_before(plan.id, status.run.as_of if status.run else today)
    if status.run is not None and earlier is not None and earlier.id == status.run.id:
        earlier = None
    rows = department_rows(plan, status)
    return {
        "format": FORMAT,
        "plan": {"id": plan.id, "code": plan.code, "title": plan.title, "region": plan.region.name},
        "kind": kind,
        "week": week.isoformat(),
        "as_of": today.isoformat(),
        "thresholds": {
            "soon_days": status.thresholds.soon_days,
            "behind_points": status.thresholds.behind_points,
        },
        "counts": status.counts.as_dict(),
        "items": items(status),
        "colours": {str(mid): row.colour for mid, row in status.rows.items()},
        "forecast": headline,
        "changes": changes(status, previous_bulletin(plan.id, week), forecast_headline(earlier), headline),
        "assessment": {"rows": rows, "totals": totals(rows), "definitions": DEFINITIONS},
    }
