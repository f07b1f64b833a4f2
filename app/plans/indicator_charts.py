"""指标走势图: each plan indicator's approved values over time against its four- and
five-star targets.

What is plotted, and why not where nothing is:
- a value counts when it is approved and known today (app.forecasting.known.known_values,
  the rule every page scores by); submitted or returned values never show;
- a series is one measured quantity in one unit: the indicator itself (its unit), or
  each part of a compound indicator / each field of a compound standard input (the
  part's or field's unit, as app.indicators.values.entry_spec reads them). A value
  assessed by level ({"level": n}) has no number to plot and is counted instead;
- a target line is one condition of a target cell (app.engines.quantities.
  cell_conditions: its own {part, op, value} and its `and` list), in the unit of its
  part, else of the indicator (Indicator.unit). It is drawn on the series of the same
  quantity only when that series is in the same unit (a value is in the unit it is
  entered in: a standard-linked indicator's value in the standard's unit); otherwise it
  is listed with the reason. Series in different units get separate charts.
"""

from __future__ import annotations

from flask import jsonify, render_template, url_for
from flask_login import current_user, login_required

from app import access, clock
from app.engines.quantities import cell_conditions, is_number
from app.forecasting.known import is_direct, known_values, plan_indicators, value_of
from app.indicators import values
from app.plans import bp

BANDS = (("four_star", 4, "四星"), ("five_star", 5, "五星"))
OP_LABELS = {">=": "≥", ">": "＞", "<=": "≤", "<": "＜", "==": "＝"}


def _series_specs(ind, spec) -> list[dict]:
    """[{key, name, unit}] of the quantities a value of `ind` holds (key None: the value itself)."""
    if spec.kind == "level-only" or not spec.fields:
        return []
    parts = ind.part_map
    if len(spec.fields) == 1 and spec.fields[0].name == "value":
        # The unit the value is entered in (a standard-linked indicator: the standard's unit).
        return [{"key": None, "name": ind.name, "unit": spec.fields[0].unit}]
    out = []
    for f in spec.fields:
        part = parts.get(f.name)
        name = part["name"] if part else f.label.split("（")[0]
        out.append({"key": f.name, "name": name, "unit": part["unit"] if part else f.unit})
    return out


def _point(raw, key):
    """The number a stored value holds for series `key`, or None."""
    if key is None:
        return raw if is_number(raw) else None
    if isinstance(raw, dict) and is_number(raw.get(key)):
        return raw[key]
    return None


def _amount(x, unit) -> str:
    n = values.fmt_number(x)
    return f"{n}{unit}" if unit == "%" else f"{n} {unit}" if unit else n


def _targets(ind, series: list[dict]):
    """(target lines, targets that cannot be drawn with the reason) of both bands."""
    by_key = {s["key"]: s for s in series}
    parts = ind.part_map
    lines, unplotted = [], []
    for prefix, stars, label in BANDS:
        cell = ind.cell(prefix)
        due = cell["due"].isoformat() if cell["due"] else None
        conds = cell_conditions(cell["part"], cell["op"], cell["value"], cell["and"])
        if not conds:
            if cell["target"]:
                unplotted.append({"stars": stars, "label": label, "text": cell["target"], "due": due,
                                  "reason": "描述性目标，没有可比较的数值"})  # fmt: skip
            continue
        for part, op, target in conds:
            # A target is in the unit of its part, else in the indicator's unit.
            unit = parts[part]["unit"] if part in parts else (ind.unit if part is None else None)
            s = by_key.get(part)
            entry = {
                "stars": stars,
                "label": label,
                "op": op,
                "op_label": OP_LABELS.get(op, op),
                "value": target,
                "unit": unit,
                "part": part,
                "part_name": parts[part]["name"] if part in parts else None,
                "due": due,
                "text": f"{label} {OP_LABELS.get(op, op)} {_amount(target, unit)}",
            }
            if part is not None and part not in parts:
                entry["reason"] = f"目标所指分项“{part}”不是该指标的分项，单位不明"
                unplotted.append(entry)
            elif s is None:
                entry["reason"] = (
                    "目标针对整体数值，但数值按分项填报" if part is None else f"没有“{part}”分项的数值"
                )
                unplotted.append(entry)
            elif s["unit"] != unit:
                entry["reason"] = f"目标单位（{unit or '无'}）与数值单位（{s['unit'] or '无'}）不同，不作比较"
                unplotted.append(entry)
            else:
                lines.append({**entry, "series": part})
    return lines, unplotted


def indicator_chart(ind, spec, rows) -> dict:
    """One indicator's charts (one per unit) from its approved values known today (oldest first)."""
    specs = _series_specs(ind, spec)
    levels = sum(1 for r in rows if isinstance(value_of(r), dict) and "level" in value_of(r))
    series = []
    for s in specs:
        points = []
        for r in rows:
            x = _point(value_of(r), s["key"])
            if x is not None:
                points.append([r.as_of.isoformat(), x])
        series.append({**s, "points": points})
    lines, unplotted = _targets(ind, specs)
    charts = []
    for unit in dict.fromkeys(s["unit"] for s in series):  # units in series order
        members = [s for s in series if s["unit"] == unit]
        keys = {s["key"] for s in members}
        charts.append({"unit": unit, "series": members, "targets": [t for t in lines if t["series"] in keys]})
    measured = sum(len(s["points"]) for s in series)
    if not specs:
        note = "该指标按档次评定（描述性），没有可画成曲线的数值。"
    elif not rows:
        note = "暂无已确认的数值。"
    elif not measured:
        note = "已确认的数值都是按档次评定的，没有可画成曲线的数值。"
    else:
        note = None
    return {
        "id": ind.id,
        "name": ind.name,
        "number": ind.number,
        "unit": ind.unit,
        "star": ind.star,
        "url": url_for("indicators.indicator", indicator_id=ind.id),
        "value_count": len(rows),
        "level_values": levels,
        "charts": charts if measured else [],
        "unplotted_targets": unplotted,
        "note": note,
    }


def charts_payload(plan) -> dict:
    today = clock.today()
    inds = [i for i in plan_indicators(plan) if not is_direct(i)]
    known = known_values([i.id for i in inds], today)
    standard = values.plan_standard(plan)
    return {
        "plan": plan.code,
        "today": today.isoformat(),
        "indicators": [indicator_chart(i, values.entry_spec(i, standard), known.get(i.id, [])) for i in inds],
    }


@bp.route("/plans/<code>/indicator-charts")
@login_required
def indicator_charts(code: str):
    plan = access.load_viewable_plan(current_user, code)
    data = charts_payload(plan)
    return render_template("plans/indicator_charts.html", plan=plan, data=data)


@bp.route("/plans/<code>/indicator-charts.json")
@login_required
def indicator_charts_json(code: str):
    plan = access.load_viewable_plan(current_user, code)
    return jsonify(charts_payload(plan))
