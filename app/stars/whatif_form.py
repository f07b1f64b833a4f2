"""The what-if form and its answer as the page shows them.

The form (read by app.forecasting.whatif) has one field group per standard
indicator, named `w<number>-<field>` after the entry spec of its input kind
(app.indicators.values.standard_spec: a number, the parts of a compound
indicator, or `w<number>-level`, a level), and the plan's open milestones as
two checkbox lists, `done` and `late`, of milestone keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from sqlalchemy import func, select

from app.dates import cn_date
from app.extensions import db
from app.forecasting.whatif import field_name
from app.indicators.values import describe, standard_spec
from app.listing import matching, search_text
from app.models import Department, Milestone
from app.stars.present import prob, signed

NOT_DONE = ("not_started", "in_progress", "blocked")


def _field_id(number: str, name: str) -> str:
    return f"wi-{number}-{name}"


def indicator_groups(std: dict, result: dict, posted, errors: dict) -> list[dict]:
    """Field groups by category: [{category, open, items: [...]}] in the standard's order."""
    groups: list[dict] = []
    current = result["current"]["indicators"]
    values = result.get("values", {})
    for ind in std["indicators"]:
        number = ind["number"]
        spec = standard_spec(std, ind)
        fields = [
            {
                "name": field_name(number, f.name),
                "id": _field_id(number, f.name),
                "label": f.label,
                "value": posted.get(field_name(number, f.name), ""),
                "whole": f.whole,
            }
            for f in spec.fields
        ]
        level = posted.get(field_name(number, "level"), "")
        entry = current.get(number, {})
        item = {
            "number": number,
            "name": ind["name"],
            "star": ind["star"],
            "kind_label": spec.kind_label,
            "notes": spec.notes,
            "fields": fields,
            "levels": spec.levels,
            "level_name": field_name(number, "level"),
            "level_id": _field_id(number, "level"),
            "level_value": level,
            "level_required": spec.level_required,
            "current": describe(spec, values.get(number)) if number in values else "未录入",
            "points": entry.get("points", 0),
            "max_points": entry.get("max_points", 0),
            "errors": [e.removeprefix(f"{spec.name}：") for e in errors.get(number, [])],
            "assumed": bool(level.strip()) or any(str(f["value"]).strip() for f in fields),
        }
        if not groups or groups[-1]["category"] != ind["category"]:
            groups.append({"category": ind["category"], "items": []})
        groups[-1]["items"].append(item)
    for g in groups:
        g["open"] = any(i["assumed"] or i["errors"] for i in g["items"])
        g["assumed"] = sum(1 for i in g["items"] if i["assumed"])
    return groups


WHATIF_MILESTONES = 100  # rows of the milestone table; a plan of thousands is searched


@dataclass
class MilestoneRows:
    rows: list[dict]
    total: int  # open milestones of the plan
    query: str  # the search text that chose them ("" = the earliest due)


def milestone_rows(plan_id: int, result: dict, posted, errors: dict, today) -> MilestoneRows:
    """The plan's open milestones, due first, with the stored run's P(done by the target
    date): the first WHATIF_MILESTONES (or those whose title or code holds ?wi_q=), and
    always those the posted form assumes or that carry an error, so none is dropped."""
    forecast = {m["id"]: m for m in result["forecast"].get("milestones", [])}
    done = set(posted.getlist("done")) if hasattr(posted, "getlist") else set()
    late = set(posted.getlist("late")) if hasattr(posted, "getlist") else set()
    query = search_text(posted.get("wi_q") if hasattr(posted, "get") else None) or search_text(
        request.args.get("wi_q")
    )
    cols = select(
        Milestone.id, Milestone.key, Milestone.title, Milestone.due_date, Department.name.label("department")
    ).outerjoin(Department, Department.id == Milestone.lead_department_id)
    open_ = (Milestone.plan_id == plan_id) & Milestone.status.in_(NOT_DONE)
    order = (Milestone.due_date, Milestone.id)
    total = db.session.scalar(select(func.count()).where(open_))
    chosen = matching(cols.where(open_), query, Milestone.title, Milestone.key)
    found = db.session.execute(chosen.order_by(*order).limit(WHATIF_MILESTONES)).all()
    keep = (done | late | set(errors)) - {r.key for r in found}
    if keep:
        found += db.session.execute(cols.where(open_, Milestone.key.in_(keep)).order_by(*order)).all()
        found.sort(key=lambda r: (r.due_date, r.id))
    rows = []
    for m in found:
        f = forecast.get(m.key, {})
        rows.append(
            {
                "id": m.id,
                "key": m.key,
                "title": m.title,
                "department": m.department or "—",
                "due": m.due_date,
                "overdue": m.due_date < today,
                "p_finish": f.get("p_finish"),
                "forecast_finish": f.get("forecast_finish"),
                "done": m.key in done,
                "late": m.key in late,
                "errors": errors.get(m.key, []),
            }
        )
    return MilestoneRows(rows, total, query)


# -- the answer ----------------------------------------------------------------------


def _total(s: dict) -> str:
    return f"{s['total']} 分（{s['stars']} 星）"


def comparison(wi: dict) -> dict:
    """Rows comparing the stored run (and today's data without assumptions, when they
    differ) with the what-if: P(target), median, expected total, range, ceiling."""
    stored, base, new = wi["stored"], wi["baseline"], wi["what_if"]
    show_base = stored is None or not wi["baseline_matches_stored"]
    ref = base if show_base else stored
    k = wi["target_stars"]
    samples = wi["samples"]
    rows = [
        {
            "key": "p_target",
            "label": f"{cn_date(wi['target_date'])}达到 {k} 星及以上的概率",
            "values": [None if s is None else prob(s["p_target"]) for s in (stored, base, new)],
            "delta": signed((new["p_target"] - ref["p_target"]) * 100) + " 个百分点",
            "change": new["p_target"] - ref["p_target"],
            "raw": new["p_target"],
        },
        {
            "key": "p50",
            "label": "考核日得分中位数",
            "values": [None if s is None else str(s["p50"]) for s in (stored, base, new)],
            "delta": signed(new["p50"] - ref["p50"], 0),
            "change": new["p50"] - ref["p50"],
            "raw": new["p50"],
        },
        {
            "key": "expected",
            "label": "考核日预计得分（均值）",
            "values": [None if s is None else f"{s['expected_total']:.1f}" for s in (stored, base, new)],
            "delta": signed(new["expected_total"] - ref["expected_total"]),
            "change": new["expected_total"] - ref["expected_total"],
            "raw": new["expected_total"],
        },
        {
            "key": "range",
            "label": "90% 区间（p05–p95）",
            "values": [None if s is None else f"{s['p05']}–{s['p95']}" for s in (stored, base, new)],
            "delta": "",
            "change": 0,
        },
        {
            "key": "ceiling",
            "label": "上限（按计划全部交付）",
            "values": [None if s is None else _total(s["ceiling"]) for s in (stored, base, new)],
            "delta": signed(new["ceiling"]["total"] - ref["ceiling"]["total"], 0),
            "change": new["ceiling"]["total"] - ref["ceiling"]["total"],
            "raw": new["ceiling"]["total"],
        },
        {
            "key": "current",
            "label": "当前得分（含假设值）",
            "values": [None if s is None else _total(s) for s in (stored, base, new)],
            "delta": signed(new["total"] - ref["total"], 0),
            "change": new["total"] - ref["total"],
            "raw": new["total"],
        },
    ]
    for stars in range(len(new["probabilities"])):
        ps = [None if s is None else s["probabilities"][stars] for s in (stored, base, new)]
        if not any(ps):
            continue
        rows.append(
            {
                "key": f"stars-{stars}",
                "label": f"考核日恰为 {stars} 星的概率",
                "values": [None if p is None else prob(p) for p in ps],
                "delta": signed((ps[2] - (ps[1] if show_base else ps[0])) * 100) + " 个百分点",
                "change": ps[2] - (ps[1] if show_base else ps[0]),
                "raw": ps[2],
                "minor": True,
            }
        )
    return {"rows": rows, "show_base": show_base, "has_stored": stored is not None, "samples": samples}


def changed_rows(wi: dict, std: dict) -> list[dict]:
    by_number = {i["number"]: i for i in std["indicators"]}
    rows = []
    for c in wi["changed"]:
        spec = standard_spec(std, by_number[c["number"]])
        rows.append(
            {
                **c,
                "before": describe(spec, c["value_before"]),
                "after": describe(spec, c["value_after"]),
            }
        )
    return rows


def _delivers(result: dict, key: str) -> str:
    """What a milestone delivers, as the stored run knows it (for the assumption lines)."""
    rows = result["forecast"].get("indicators", {})
    numbers = [n for n, row in rows.items() if any(d["milestone"] == key for d in row.get("deliveries", []))]
    if numbers:
        return "交付第 " + "、".join(numbers) + " 项"
    if any(key in row.get("unvalued", []) for row in rows.values()):
        return "关联指标但未声明交付值，本身不改变得分，只影响等它的里程碑"
    return "不交付标准指标，只影响等它的里程碑"


def assumption_lines(wi: dict, std: dict, result: dict) -> list[str]:
    """The assumptions made, in Chinese, naming the indicators and milestones."""
    by_number = {i["number"]: i for i in std["indicators"]}
    titles = wi.get("milestones", {})
    out = []
    for number, value in wi["assumptions"]["values"].items():
        spec = standard_spec(std, by_number[number])
        out.append(f"第 {number} 项 {by_number[number]['name']}：假设今天测得 {describe(spec, value)}")
    for key in wi["assumptions"]["done"]:
        out.append(f"里程碑“{titles.get(key, key)}”假设今天完成（{_delivers(result, key)}）")
    for key in wi["assumptions"]["late"]:
        out.append(f"里程碑“{titles.get(key, key)}”假设延误到考核日之后（{_delivers(result, key)}）")
    return out
