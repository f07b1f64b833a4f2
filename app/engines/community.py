"""The community standard (sd-community-2019, 附件3) as a check: the quantities its items
measure, the conditions the formulas put on them, whether a community is a 智慧社区, the
coverage rate and how many more 智慧社区 a coverage target needs. Pure Python.

The formulas are read from the items' 指标考核 text (plans/standards/README.md, "Community
standard: formulas"): each is a ratio numerator / denominator × 100 compared with the
printed threshold (达到 X / X 以上 → >=, 超过 X → >), or a plain count / duration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b}
OP_TEXT = {">=": "≥", ">": "＞", "<=": "≤"}


@dataclass(frozen=True)
class Quantity:
    key: str
    label: str
    unit: str
    whole: bool = True


@dataclass(frozen=True)
class Formula:
    key: str
    name: str  # what the standard calls the measured value
    numerator: str | None  # a Quantity key; None: `denominator` is the value itself
    denominator: str
    op: str
    threshold: float
    unit: str  # '%' for a ratio, else the unit of the quantity

    def condition_text(self) -> str:
        return f"{self.name} {OP_TEXT[self.op]} {fmt(self.threshold)}{self.unit}"


HOUSEHOLDS = "households"
QUANTITIES = {
    q.key: q
    for q in (
        Quantity(HOUSEHOLDS, "社区内总户数", "户"),
        Quantity("fiber_households", "光纤入户用户数", "户"),
        Quantity("tv_households", "开通数字电视和IPTV互动电视的用户数", "户"),
        Quantity("smart_lights", "安装了智能控制设备的公共照明设备数", "个"),
        Quantity("lights", "公共照明设备总数", "个"),
        Quantity("kwh_plain", "未采用智能照明的公共照明年度耗电量", "千瓦时", whole=False),
        Quantity("kwh_smart", "采用了智慧照明的公共照明年度耗电量", "千瓦时", whole=False),
        Quantity("gov_services", "对接的常用政务服务业务数", "个"),
        Quantity("online_shops", "提供统一网购信息接入的超市、便利店、标准化菜店数", "家"),
        Quantity("shops", "超市、便利店、标准化菜店总数", "家"),
        Quantity("shared_spaces", "开通共享服务的车位数", "个"),
        Quantity("spaces", "社区内总车位数", "个"),
        Quantity("health_records", "建立了健康档案的居民数", "人"),
        Quantity("residents", "户籍居民数", "人"),
        Quantity("response_minutes", "居家老人意外事故响应时间", "分钟", whole=False),
        Quantity("police_items", "警民联动安全治理服务事项数", "项"),
        Quantity("safety_items", "社区安全治理服务总事项数", "项"),
    )
}

# Item number → the formulas its 指标考核 prints. The energy saving of item 8 is
# (未采用 − 采用) / 未采用: its numerator is computed, see `measure`.
FORMULAS: dict[str, tuple[Formula, ...]] = {
    "1": (Formula("fiber", "光纤宽带网络覆盖率", "fiber_households", HOUSEHOLDS, ">=", 100, "%"),),
    "3": (Formula("tv", "数字电视和IPTV互动电视覆盖率", "tv_households", HOUSEHOLDS, ">=", 50, "%"),),
    "8": (
        Formula("lighting", "智能照明设备安装率", "smart_lights", "lights", ">=", 60, "%"),
        Formula("saving", "路灯、景观灯节能率", "kwh_saved", "kwh_plain", ">=", 20, "%"),
    ),
    "9": (Formula("services", "对接的常用政务服务业务", None, "gov_services", ">=", 3, "个"),),
    "11": (Formula("shopping", "在线网购业务接入率", "online_shops", "shops", ">=", 60, "%"),),
    "12": (Formula("parking", "停车位共享率", "shared_spaces", "spaces", ">", 5, "%"),),
    "13": (Formula("health", "电子健康档案建档率", "health_records", "residents", ">=", 80, "%"),),
    "14": (Formula("response", "意外事故响应时间", None, "response_minutes", "<=", 15, "分钟"),),
    "23": (Formula("police", "警民联动安全治理服务覆盖率", "police_items", "safety_items", ">", 70, "%"),),
}


def fmt(x: float) -> str:
    """As the stars page writes a value (6 significant digits), so the pages agree."""
    text = f"{round(x, 6):g}"
    return text if text != "-0" else "0"


def quantities_of(number: str) -> list[Quantity]:
    """The numbers an item asks for, in the order of its formulas (households come from the
    community, not the form)."""
    keys: list[str] = []
    for f in FORMULAS.get(number, ()):
        for key in (f.numerator, f.denominator):
            if key == "kwh_saved":
                key = "kwh_smart"
            if key and key != HOUSEHOLDS and key not in keys:
                keys.append(key)
    return [QUANTITIES[k] for k in keys]


def measure(number: str, numbers: dict, households: int | None) -> list[dict]:
    """Each formula of the item with its value computed from `numbers` (quantity key →
    number) and whether it holds; value None when an input is missing or the
    denominator is 0."""
    given = {**numbers, HOUSEHOLDS: households}
    if given.get("kwh_plain") is not None and given.get("kwh_smart") is not None:
        given["kwh_saved"] = given["kwh_plain"] - given["kwh_smart"]
    out = []
    for f in FORMULAS.get(number, ()):
        den = given.get(f.denominator)
        num = given.get(f.numerator) if f.numerator else None
        if f.numerator is None:
            value = den
        elif den is None or num is None or den == 0:
            value = None
        else:
            value = round(num / den * 100, 6)
        out.append(
            {
                "key": f.key,
                "name": f.name,
                "condition": f.condition_text(),
                "value": value,
                "unit": f.unit,
                "holds": None if value is None else OPS[f.op](value, f.threshold),
            }
        )
    return out


def check_numbers(number: str, numbers: dict, households: int | None) -> list[str]:
    """Chinese messages for numbers that cannot be right (negative, a part above its whole)."""
    errors = []
    for q in quantities_of(number):
        v = numbers.get(q.key)
        if v is not None and v < 0:
            errors.append(f"第 {number} 项：{q.label}不能为负数。")
    given = {**numbers, HOUSEHOLDS: households}
    for f in FORMULAS.get(number, ()):
        if f.numerator in QUANTITIES and f.denominator in QUANTITIES:
            num, den = given.get(f.numerator), given.get(f.denominator)
            if num is not None and den is not None and num > den:
                errors.append(
                    f"第 {number} 项：{QUANTITIES[f.numerator].label}（{fmt(num)}）"
                    f"不能多于{QUANTITIES[f.denominator].label}（{fmt(den)}）。"
                )
    return errors


def claim_error(number: str, met: bool, results: list[dict]) -> str | None:
    """Why a claim of 达标 cannot stand: a formula is not met or cannot be computed."""
    if not met:
        return None
    for r in results:
        if r["value"] is None:
            return f"第 {number} 项声明达标，但{r['name']}无法计算：请填写计算所需的数值。"
        if not r["holds"]:
            shown = f"{fmt(r['value'])}{r['unit']}"
            return f"第 {number} 项声明达标，但{r['name']}为 {shown}，未满足“{r['condition']}”。"
    return None


def is_smart(met_items: int, required: int) -> bool:
    """A community is a 智慧社区 when at least `required` items are approved as met
    (the default rule, and the standard's reading, is all 25)."""
    return met_items >= required


def coverage(smart: int, total: int) -> float | None:
    """智慧社区覆盖率 in percent (0–100, the unit the star standards compare), None without communities."""
    if total <= 0:
        return None
    return round(smart / total * 100, 6)


def communities_needed(smart: int, total: int, op: str, threshold: float) -> int | None:
    """How many more 智慧社区 make smart/total×100 satisfy `op threshold` (None: unreachable
    even with every community)."""
    if total <= 0:
        return None
    need = threshold * total / 100
    if op == ">=":
        least = math.ceil(need - 1e-9)
    elif op == ">":
        least = math.floor(need + 1e-9) + 1
    else:
        raise ValueError(f"unsupported op {op!r}")
    least = max(least, 0)
    if least > total:
        return None
    return max(least - smart, 0)
