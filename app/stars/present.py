"""Turning a stored forecast run into what the 星级测算 page shows (no computing here)."""

from __future__ import annotations

import math
from datetime import date

from app.dates import cn_date

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


def cn_day(value) -> str:
    """cn_date for the ISO date strings of a stored result (and for dates)."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return cn_date(value)


def pct(p, digits=1) -> str:
    if p is None:
        return "—"
    return f"{p * 100:.{digits}f}%"


def source_text(source) -> str:
    if not source:
        return "未录入"
    if source.get("direct"):
        return "标准直填"
    return f"计划指标：{source['indicator_name']}"


def indicator_rows(std: dict, result: dict) -> list[dict]:
    """One row per standard indicator: value used, source, level, points, next level."""
    current = result["current"]["indicators"]
    rows = []
    for ind in std["indicators"]:
        number = ind["number"]
        entry = current.get(number, {})
        source = result.get("sources", {}).get(number)
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
                "next": entry.get("next"),
            }
        )
    return rows


def risk_reasons(entry: dict) -> list[str]:
    """The at-risk reasons of an indicator in Chinese (weak milestones are listed apart)."""
    out = []
    if "below_target" in entry.get("reasons", []):
        if entry.get("expected_points") is not None:
            target = number_text(entry["target_points"])
            out.append(f"预计得分 {entry['expected_points']:.1f} 分，低于目标 {target} 分")
        else:
            out.append(f"达到计划目标的概率仅 {pct(entry.get('p_reaches_target'))}（不足一半）")
    if "weak_milestones" in entry.get("reasons", []):
        out.append("交付该指标的里程碑完成可能性不足一半")
    return out


def star_text(stars) -> str:
    stars = int(stars or 0)
    return "★" * stars + "☆" * (5 - stars)
