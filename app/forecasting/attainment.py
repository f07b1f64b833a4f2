"""Target attainment of a plan's four-/five-star indicator table, as known on a date.

Rules:
- Per indicator and band (4, 5) with a target: the latest value approved and known
  on as_of whose own date is on or before min(band due, as_of) is compared with
  the band's conditions -> "met" / "not_met"; no such value -> "no_value".
- The conditions of a cell: its op/value, on the cell's `part` for a compound
  indicator (one with parts), plus its `and` conditions on the other parts; all of
  them must hold. A per-part value lacking a part a condition needs, or a plain
  number on a compound indicator, is "unknown". Each entry lists its conditions with
  the actual part values (`conditions`).
- A descriptive target (value null): "met" if a {"level": n} value with n >= the
  band is present, "not_met" if a lower level is present, else (no value, or
  not a level) "unknown". A level value meets any target of its band or below. A
  structured value other than a level or the indicator's parts is "unknown".
- Weighted attainment % = met weight / all weight * 100. Weights: the plan's
  weights for the band when it gives any (an indicator without one then weighs
  0), else equal weights. unknown and no_value count as not met.
"""

from __future__ import annotations

from datetime import date

from app.engines.quantities import cell_conditions, is_number, meets
from app.forecasting.known import is_direct, known_values, plan_indicators, value_of
from app.models import Indicator, Plan

BANDS = {4: "four_star", 5: "five_star"}
RULES = (
    "unknown（描述性目标无等级值，或分项数值不全）与 no_value（无已确认数值）均按未达成计；"
    "含多个分项的目标须各分项均达到；计划给出权重时按权重（无权重的指标计 0），否则等权"
)


def _status(conditions, value, stars, parts: bool):
    level = value.get("level") if isinstance(value, dict) else None
    if not conditions:
        if not is_number(level):
            return "unknown"
        return "met" if level >= stars else "not_met"
    if value is None:
        return "no_value"
    if is_number(level) and set(value) == {"level"}:
        return "met" if level >= stars else "not_met"
    if parts != isinstance(value, dict):  # a per-part value needs parts, and parts a per-part value
        return "unknown"
    ok = meets(conditions, value)
    return "unknown" if ok is None else "met" if ok else "not_met"


def _conditions(ind: Indicator, prefix: str) -> list[dict]:
    """The cell's conditions, each with the part's name and unit (None: the number itself)."""
    part_map = ind.part_map
    conds = cell_conditions(
        getattr(ind, f"{prefix}_part"),
        getattr(ind, f"{prefix}_op"),
        getattr(ind, f"{prefix}_value"),
        getattr(ind, f"{prefix}_and"),
    )
    out = []
    for part, op, value in conds:
        p = part_map.get(part, {})
        out.append(
            {
                "part": part,
                "name": p.get("name", ind.name),
                "unit": p.get("unit", ind.unit),
                "op": op,
                "value": value,
            }
        )
    return out


def _judged(conditions: list[dict], value) -> list[dict]:
    out = []
    for c in conditions:
        if c["part"] is None:
            actual = value if is_number(value) else None
        else:
            actual = value.get(c["part"]) if isinstance(value, dict) else None
            actual = actual if is_number(actual) else None
        met = None if actual is None else meets([(None, c["op"], c["value"])], actual)
        out.append({**c, "actual": actual, "met": met})
    return out


def _band_due(plan: Plan, stars: int):
    return next((date.fromisoformat(str(t["due"])) for t in plan.targets or [] if t["stars"] == stars), None)


def _entry(plan: Plan, ind: Indicator, stars: int, prefix: str, history: dict, as_of: date) -> dict | None:
    """One indicator's status for one band (None: the indicator has no target for it)."""
    text, op, target = (getattr(ind, f"{prefix}_{k}") for k in ("target", "op", "value"))
    if text is None and target is None:
        return None
    conditions = _conditions(ind, prefix)
    due = getattr(ind, f"{prefix}_due") or _band_due(plan, stars) or as_of
    cutoff = min(due, as_of)
    known = [r for r in history.get(ind.id, []) if r.as_of <= cutoff]
    value = value_of(known[-1]) if known else None
    return {
        "target": text,
        "op": op,
        "value": target,
        "due": due.isoformat(),
        "checked_at": cutoff.isoformat(),
        "actual": value,
        "actual_as_of": known[-1].as_of.isoformat() if known else None,
        "part": getattr(ind, f"{prefix}_part"),
        "conditions": _judged(conditions, value),
        "status": _status(
            [(c["part"], c["op"], c["value"]) for c in conditions],
            value,
            stars,
            bool(ind.parts),
        ),
        "weight": getattr(ind, f"weight_{prefix}"),
    }


def indicator_bands(
    plan: Plan, inds: list[Indicator], as_of: date, history: dict | None = None
) -> dict[int, dict]:
    """{indicator id: {"four_star": entry, "five_star": entry}} for these indicators only, as
    attainment() judges them: what the indicator pages show, without reading (and weighing)
    the whole plan's indicators and values. history: known_values of these, when read."""
    history = known_values([i.id for i in inds], as_of)
    return {
        i.id: {prefix: _entry(plan, i, stars, prefix, history, as_of) for stars, prefix in BANDS.items()}
        for i in inds
    }


def attainment(plan: Plan, as_of: date) -> dict:
    """Per-indicator status for four and five stars, and the weighted attainment per band."""
    inds = [i for i in plan_indicators(plan) if not is_direct(i)]
    history = known_values([i.id for i in inds], as_of)
    rows, bands = [], {}
    for stars, prefix in BANDS.items():
        entries = []
        for ind in inds:
            entry = _entry(plan, ind, stars, prefix, history, as_of)
            if entry is not None:
                entries.append((ind, entry))
        weighted = any(e["weight"] is not None for _, e in entries)
        for _, e in entries:
            e["weight_used"] = (e["weight"] or 0) if weighted else 1
        total = sum(e["weight_used"] for _, e in entries)
        met = sum(e["weight_used"] for _, e in entries if e["status"] == "met")
        counts = {s: 0 for s in ("met", "not_met", "unknown", "no_value")}
        for _, e in entries:
            counts[e["status"]] += 1
        bands[str(stars)] = {
            "weighted": weighted,
            "attainment_pct": round(100 * met / total, 2) if total else None,
            "indicators": len(entries),
            **counts,
        }
        rows.append({ind.id: e for ind, e in entries})
    indicators = [
        {
            "id": i.id,
            "key": i.key,
            "name": i.name,
            "four_star": rows[0].get(i.id),
            "five_star": rows[1].get(i.id),
        }
        for i in inds
    ]
    return {
        "plan": plan.code,
        "as_of": as_of.isoformat(),
        "bands": bands,
        "indicators": indicators,
        "rules": RULES,
    }
