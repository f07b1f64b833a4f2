"""Turning a stored forecast run into what the 星级测算 page shows (no computing here).

The stored result (app.forecasting.snapshot) holds the score of the latest values
(`current`), the cheapest level-ups (`gap` to the next star, `gap_target` to the
plan's target star) and the forecast (`forecast`: the distribution, median,
ceiling, untracked indicators, per-indicator deliveries, departments, the
milestones that move P(target) most). The helpers here read it, nothing else.
"""

from __future__ import annotations

import math

from app.engines.forecast_explain import ceiling_gap
from app.engines.standards import max_points
from app.stars.costs import STEPS_UNIT

STATUS_LABELS = {"met": "达成", "not_met": "未达成", "unknown": "无法判断", "no_value": "无数值"}
FIELD_LABELS = {
    "coverage": "覆盖率",
    "intact": "完好率",
    "contribution": "贡献率",
    "departments": "部门数",
    "national": "国家级试点",
    "provincial": "省级",
    "related": "相关领域试点",
    "municipal": "市级",
    "wifi": "无线",
    "multimedia": "多媒体",
    "remote": "远程",
    "air": "空气",
    "water": "水",
    "noise": "噪声",
}
LOW_P_DONE = 0.5  # a delivery less likely than this to be done by the target date is a risk
DROP_POINTS = 0.05  # expected points this far below the current points: the indicator may fall back


def number_text(x) -> str:
    """73.9 -> "73.9", 3.0 -> "3", 0.1234567 -> "0.123457"."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{round(x, 6):g}" if abs(x) < 1e15 else str(x)


def value_text(value, unit=None) -> str:
    """An indicator input as people read it: 73.9%, 等级 3, 覆盖率 90、完好率 95."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        if set(value) == {"level"}:
            return f"等级 {number_text(value['level'])}"
        return "、".join(f"{FIELD_LABELS.get(k, k)} {number_text(v)}" for k, v in value.items())
    text = number_text(value)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def pct(p, digits=1) -> str:
    if p is None:
        return "—"
    return f"{p * 100:.{digits}f}%"


def prob(p) -> str:
    """A probability from sampling: never 100% or 0% (> 99.9% / < 0.1%)."""
    if p is None:
        return "—"
    if p * 100 >= 99.95:
        return "> 99.9%"
    if p * 100 < 0.05:
        return "< 0.1%"
    return pct(p)


def p_at_least(result: dict, stars: int) -> float:
    """P(stars >= k) at the target date from the stored distribution."""
    return sum(result["forecast"]["probabilities"][stars:])


def hits(p, samples) -> int:
    """How many of the samples the probability counts."""
    return round((p or 0) * samples)


def signed(x, digits=1) -> str:
    if x is None:
        return "—"
    if abs(x) < 0.5 * 10**-digits:
        return "±0"
    return f"{x:+.{digits}f}" if digits else f"{x:+d}"


def star_text(stars) -> str:
    stars = int(stars or 0)
    return "★" * stars + "☆" * (5 - stars)


def source_text(source) -> str:
    if not source:
        return "未录入"
    if source.get("direct"):
        return "标准直填"
    return f"计划指标：{source['indicator_name']}"


# -- milestones of the stored run ---------------------------------------------------


def milestone_info(result: dict) -> dict:
    """{milestone key: {id, title, due, department_id}} from the run's keys and graph."""
    graph = result.get("graph", {}).get("milestones", {})
    out = {}
    for key, mid in result.get("keys", {}).items():
        g = graph.get(str(mid), {})
        out[key] = {"key": key, "id": mid, "title": g.get("title") or key, "due": g.get("due")}
    return out


def _milestone(info: dict, key: str) -> dict:
    return info.get(key) or {"key": key, "id": None, "title": key, "due": None}


# -- the answer: P(target), the gap from the median, the ceiling and why --------------


def answer(result: dict, std: dict) -> dict:
    """The first lines of the page (see the template's "answer" card)."""
    fc = result["forecast"]
    names = {i["number"]: i for i in std["indicators"]}
    gaps = ceiling_gap(fc, std)
    indicators = fc.get("indicators", {})
    untracked = [
        {"number": n, "name": names[n]["name"], "star": names[n]["star"], "max_points": max_points(names[n])}
        for n in fc.get("untracked", [])
    ]
    sources = result.get("sources", {})
    capped = []
    for n in fc["capped"]:
        row = indicators[n]
        delivered = max((d["points"] for d in row.get("deliveries", [])), default=None)
        if delivered is not None and delivered > row["current_points"]:
            reason = f"计划交付最多到 {delivered} 分"
        elif row.get("unvalued"):
            reason = f"{len(row['unvalued'])} 个关联里程碑未声明交付值"
        else:
            reason = "没有里程碑交付该指标，按最新值计"
        capped.append(
            {
                "number": n,
                "name": names[n]["name"],
                "star": names[n]["star"],
                "latest": value_text(row.get("latest"), names[n].get("unit")),
                "ceiling_points": row["ceiling_points"],
                "max_points": row["max_points"],
                "lost": row["max_points"] - row["ceiling_points"],
                "reason": reason,
                "source": sources.get(n),
            }
        )
    capped.sort(key=lambda c: (-c["lost"], int(c["number"])))
    deduction = sum(
        row["ceiling_points"] for n, row in indicators.items() if names[n]["input"] == "deduction"
    )
    samples = fc["samples"]
    settled = fc["as_of"] >= fc["target_date"]  # no sampling: the latest values decide
    return {
        "target_stars": result["target_stars"],
        "target_date": result["target_date"],
        "p_target": fc["p_target"],
        "p_text": ("已达到" if fc["p_target"] >= 1 else "未达到") if settled else prob(fc["p_target"]),
        "hits": hits(fc["p_target"], samples),
        "samples": samples,
        "settled": settled,
        "band": gaps.get("target_min_total"),
        "median_gap": gaps.get("median_gap"),
        "ceiling_gap": gaps.get("ceiling_gap"),
        "untracked": untracked,
        "untracked_lost": sum(u["max_points"] for u in untracked),
        "capped": capped,
        "capped_lost": sum(c["lost"] for c in capped),
        "deduction": deduction,
        "drift_above_ceiling": fc["p50"] > fc["ceiling"]["total"],
    }


def distribution(result: dict) -> list[dict]:
    target = result["target_stars"]
    samples = result["forecast"]["samples"]
    return [
        {"stars": k, "p": p, "text": prob(p), "hits": hits(p, samples), "target": k >= target}
        for k, p in enumerate(result["forecast"]["probabilities"])
    ]


# -- the cheapest way: steps and what the plan already delivers ----------------------


def cost_unit(result: dict, gap: dict | None) -> tuple[str, bool]:
    """(unit label, whether costs count level steps): the plan office's unit, else 档."""
    unit = result.get("cost_unit")
    if unit:
        return unit, False
    steps = (gap or {}).get("steps", [])
    if all(s["cost"] == s["to_level"] - s["from_level"] for s in steps):
        return STEPS_UNIT, True
    return "（未指定单位）", False


def _delivery_rows(row: dict, info: dict) -> list[dict]:
    out = []
    for d in row.get("deliveries", []):
        m = _milestone(info, d["milestone"])
        out.append({**d, "title": m["title"], "id": m["id"]})
    return out


def way(result: dict, gap: dict | None, std: dict, info: dict) -> dict | None:
    """A gap plan as the page shows it: each step with what the plan already delivers."""
    if gap is None:
        return None
    names = {i["number"]: i for i in std["indicators"]}
    current = result["current"]["indicators"]
    fc_rows = result["forecast"].get("indicators", {})
    unit, counts_steps = cost_unit(result, gap)
    steps = []
    for s in gap.get("steps", []):
        n = s["number"]
        row = fc_rows.get(n, {})
        need = current[n]["points"] + s["points_gain"]
        deliveries = _delivery_rows(row, info)
        covering = sorted((d for d in deliveries if d["points"] >= need), key=lambda d: -d["p_done"])
        partial = [d for d in deliveries if current[n]["points"] < d["points"] < need]
        unvalued = [_milestone(info, k) for k in row.get("unvalued", [])]
        if covering:
            status = "covered"
        elif partial:
            status = "partial"
        elif unvalued:
            status = "unvalued"
        else:
            status = "new"
        steps.append(
            {
                **s,
                "unit": names[n].get("unit"),
                "steps": s["to_level"] - s["from_level"],
                "status": status,
                "covering": covering,
                "partial": partial,
                "unvalued": unvalued,
                "p_done": covering[0]["p_done"] if covering else None,
            }
        )
    new = [s for s in steps if s["status"] != "covered"]
    return {
        **gap,
        "steps": steps,
        "unit": unit,
        "counts_steps": counts_steps,
        "new_steps": len(new),
        "new_cost": sum(s["cost"] for s in new),
    }


# -- what the forecast rests on ------------------------------------------------------


def top_milestones(result: dict, info: dict) -> list[dict]:
    return [{**m, **_milestone(info, m["id"])} for m in result["forecast"].get("top_milestones", [])]


def at_risk(result: dict, std: dict, info: dict) -> list[dict]:
    """Indicators whose expected points fall below the current ones, or whose delivering
    milestones are unlikely to be done by the target date."""
    names = {i["number"]: i for i in std["indicators"]}
    rows = []
    for n, row in result["forecast"].get("indicators", {}).items():
        if names[n]["input"] == "deduction":
            continue
        reasons = []
        if row["expected_points"] < row["current_points"] - DROP_POINTS:
            expected, now = row["expected_points"], row["current_points"]
            reasons.append(f"考核日预计 {expected:.1f} 分，低于当前 {now} 分（指标可能回落）")
        weak = [d for d in _delivery_rows(row, info) if d["p_done"] < LOW_P_DONE]
        if not reasons and not weak:
            continue
        rows.append(
            {
                "number": n,
                "name": names[n]["name"],
                "star": names[n]["star"],
                "current_points": row["current_points"],
                "expected_points": row["expected_points"],
                "max_points": row["max_points"],
                "reasons": reasons,
                "weak": weak,
            }
        )
    return sorted(rows, key=lambda r: (r["expected_points"] - r["current_points"], int(r["number"])))


def departments(result: dict) -> list[dict]:
    rows = [
        {"name": name, "records": d["on_time"] + d["late_finished"] + d["late_open"], **d}
        for name, d in result["forecast"].get("departments", {}).items()
    ]
    return sorted(rows, key=lambda r: (r["on_time_rate"], -r["records"], r["name"]))


def indicator_rows(std: dict, result: dict) -> list[dict]:
    """One row per standard indicator: value used, source, level, points, the forecast, next level."""
    current = result["current"]["indicators"]
    fc_rows = result["forecast"].get("indicators", {})
    rows = []
    for ind in std["indicators"]:
        number = ind["number"]
        entry = current.get(number, {})
        source = result.get("sources", {}).get(number)
        fc = fc_rows.get(number, {})
        rows.append(
            {
                "number": number,
                "category": entry.get("category", ind["category"]),
                "name": entry.get("name", ind["name"]),
                "star": ind["star"],
                "input": ind["input"],
                "deduction": ind["input"] == "deduction",
                "value": value_text(result.get("values", {}).get(number), ind.get("unit")),
                "source": source_text(source),
                "source_as_of": source.get("as_of") if source else None,
                "direct": bool(source and source.get("direct")),
                "level": entry.get("level", 0),
                "points": entry.get("points", 0),
                "max_points": entry.get("max_points", 0),
                "expected": fc.get("expected_points"),
                "ceiling": fc.get("ceiling_points"),
                "untracked": number in result["forecast"].get("untracked", []),
                "next": entry.get("next"),
            }
        )
    return rows
