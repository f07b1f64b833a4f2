"""Step costs: what one level step of a standard indicator costs the plan (default 1),
and the unit the plan office prices them in (人天 or 万元).

The gap engine picks the cheapest set of level-ups that reaches a star band; the
plan office sets the per-step costs. Only costs other than 1 are stored, so the
stored object stays small and an unchanged default changes nothing. Without a
unit and without costs, a plan's cost is the number of level steps (档).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

DEFAULT_COST = 1
MAX_COST = 1_000_000
FIELD_PREFIX = "cost-"
UNIT_FIELD = "unit"
UNITS = ("人天", "万元")
STEPS_UNIT = "档"  # what a cost counts when the plan office has set none


def costable(std: dict) -> list[dict]:
    """The standard's indicators that can be raised a level (every one but the deduction)."""
    return [ind for ind in std["indicators"] if ind["input"] != "deduction"]


def cost_of(costs: Mapping | None, number: str):
    return (costs or {}).get(number, DEFAULT_COST)


def fingerprint(costs: Mapping | None, unit: str | None = None) -> str:
    """The optimistic lock of the cost form: changes whenever the stored costs or unit change."""
    blob = json.dumps([costs or {}, unit], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _plain(x: float):
    return int(x) if x == int(x) else x


def parse_costs(form: Mapping, std: dict) -> tuple[dict, list[str]]:
    """(costs to store, errors in Chinese naming the indicator) from the submitted form.

    A blank field means the default (1). Fields naming an indicator the standard
    has no step for are refused. Nothing is stored unless there are no errors.
    """
    known = {ind["number"]: ind for ind in costable(std)}
    errors = []
    for key in form:
        if key.startswith(FIELD_PREFIX) and key[len(FIELD_PREFIX) :] not in known:
            number = key[len(FIELD_PREFIX) :]
            errors.append(f"标准 {std['code']} 中没有可设置提升成本的第 {number} 项。")
    costs = {}
    for number, ind in known.items():
        raw = (form.get(FIELD_PREFIX + number) or "").strip()
        if not raw:
            continue
        label = f"第 {number} 项（{ind['name']}）"
        try:
            value = float(raw)
        except ValueError:
            errors.append(f"{label}的提升成本“{raw}”不是数字。")
            continue
        if not math.isfinite(value) or value <= 0:
            errors.append(f"{label}的提升成本必须是大于 0 的数，填写的是“{raw}”。")
        elif value > MAX_COST:
            errors.append(f"{label}的提升成本不能超过 {MAX_COST}。")
        elif value != DEFAULT_COST:
            costs[number] = _plain(value)
    return costs, errors


def parse_unit(form: Mapping, costs: Mapping) -> tuple[str | None, list[str]]:
    """(unit to store, errors): 人天 or 万元; required once any cost differs from the default."""
    raw = (form.get(UNIT_FIELD) or "").strip()
    if raw and raw not in UNITS:
        return None, [f"成本单位只能是{'或'.join(UNITS)}，填写的是“{raw}”。"]
    if not raw and costs:
        return None, ["填写了提升成本，请选择成本单位（人天或万元），否则无法比较和汇总。"]
    return raw or None, []


def unit_label(unit: str | None) -> str:
    return unit or "未设置"


def describe_change(
    before: Mapping | None, after: Mapping, std: dict, unit_before: str | None = None, unit_after=None
) -> str:
    """A one-line audit summary: 成本单位 未设置 → 人天；第 5 项 1 → 3；第 12 项 2 → 1."""
    parts = []
    if unit_before != unit_after:
        parts.append(f"成本单位 {unit_label(unit_before)} → {unit_label(unit_after)}")
    for ind in costable(std):
        number = ind["number"]
        old, new = cost_of(before, number), cost_of(after, number)
        if old != new:
            parts.append(f"第 {number} 项 {old} → {new}")
    text = "修改提升成本：" + "；".join(parts)
    return text if len(text) <= 500 else text[:497] + "…"
