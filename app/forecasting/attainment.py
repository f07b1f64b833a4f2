"""Target attainment of a plan's four-/five-star indicator table, as known on a date.

Rules:
- Per indicator and band (4, 5) with a target: the latest value approved and known
  on as_of whose own date is on or before min(band due, as_of) is compared with
  the band's op/value -> "met" / "not_met"; no such value -> "no_value".
- A descriptive target (value null): "met" if a {"level": n} value with n >= the
  band is present, "not_met" if a lower level is present, else (no value, or
  not a level) "unknown". A
  structured value other than a level on a numeric target is "unknown".
- Weighted attainment % = met weight / all weight * 100. Weights: the plan's
  weights for the band when it gives any (an indicator without one then weighs
  0), else equal weights. unknown and no_value count as not met.
"""

from __future__ import annotations

from datetime import date

from app.engines.scoring import OPS
from app.forecasting.known import is_direct, known_values, plan_indicators, value_of
from app.models import Plan

BANDS = {4: "four_star", 5: "five_star"}
RULES = (
    "unknown（描述性目标无等级值）与 no_value（无已确认数值）均按未达成计；"
    "计划给出权重时按权重（无权重的指标计 0），否则等权"
)


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _status(op, target, value, stars):
    level = value.get("level") if isinstance(value, dict) else None
    if target is None or op is None:
        if not _number(level):
            return "unknown"
        return "met" if level >= stars else "not_met"
    if value is None:
        return "no_value"
    if _number(level) and set(value) == {"level"}:
        return "met" if level >= stars else "not_met"
    if not _number(value):
        return "unknown"
    return "met" if OPS[op](value, target) else "not_met"


def _band_due(plan: Plan, stars: int):
    return next((date.fromisoformat(str(t["due"])) for t in plan.targets or [] if t["stars"] == stars), None)


def attainment(plan: Plan, as_of: date) -> dict:
    """Per-indicator status for four and five stars, and the weighted attainment per band."""
    inds = [i for i in plan_indicators(plan) if not is_direct(i)]
    history = known_values([i.id for i in inds], as_of)
    rows, bands = [], {}
    for stars, prefix in BANDS.items():
        entries = []
        for ind in inds:
            text, op, target = (getattr(ind, f"{prefix}_{k}") for k in ("target", "op", "value"))
            if text is None and target is None:
                continue
            due = getattr(ind, f"{prefix}_due") or _band_due(plan, stars) or as_of
            cutoff = min(due, as_of)
            known = [r for r in history.get(ind.id, []) if r.as_of <= cutoff]
            value = value_of(known[-1]) if known else None
            entries.append(
                (
                    ind,
                    {
                        "target": text,
                        "op": op,
                        "value": target,
                        "due": due.isoformat(),
                        "checked_at": cutoff.isoformat(),
                        "actual": value,
                        "actual_as_of": known[-1].as_of.isoformat() if known else None,
                        "status": _status(op, target, value, stars),
                        "weight": getattr(ind, f"weight_{prefix}"),
                    },
                )
            )
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
