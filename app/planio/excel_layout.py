"""The Excel layout of a plan: sheet names, columns, Chinese labels and the
compact milestone-target text (`5G基站数量>=1500个; …`) shared by reader and writer."""

import json
import re

from app.models.org import DEPARTMENT_KINDS

PLAN, DEPTS, TREE, DEPS, INDS = "计划", "部门", "任务与里程碑", "依赖关系", "指标"
NODE, MILESTONE = "节点", "里程碑"
SEP = "、"
STAR = "★"
YES, NO = "是", "否"

REGION_KIND_LABELS = {"city": "市", "county": "县（市、区）"}
DEPARTMENT_KIND_LABELS = dict(DEPARTMENT_KINDS)
NODE_KIND_LABELS = {
    "center": "中心",
    "system": "体系",
    "program": "工程",
    "framework": "框架",
    "task": "任务",
    "project": "项目",
    "group": "分组",
}

# The 计划 sheet: one (label, path) row per field; star targets follow as "N星目标" rows.
PLAN_ROWS = [
    ("代码", "code"),
    ("标题", "title"),
    ("发布日期", "issued"),
    ("来源文件", "source"),
    ("起始日期", "period.start"),
    ("结束日期", "period.end"),
    ("地区", "region.name"),
    ("地区级别", "region.kind"),
    ("上级地区", "region.parent"),
    ("考核标准", "standard"),
]
PLAN_DATES = {"issued", "period.start", "period.end"}
TARGET_LABEL = re.compile(r"^([1-5])\s*星目标$")

# Each other sheet: (header, field, width). The field is the schema's name, or a
# pseudo-field of the sheet; schema errors are located through it.
COLUMNS = {
    PLAN: [("项目", "label", 12), ("内容", "value", 70)],
    DEPTS: [("名称", "name", 28), ("类别", "kind", 12)],
    TREE: [
        ("类型", "type", 7),
        ("键", "key", 22),
        ("上级节点", "parent", 20),
        ("节点类别", "kind", 9),
        ("编号", "number", 8),
        ("标题", "title", 30),
        ("内容", "text", 60),
        ("部门（首位牵头）", "departments", 28),
        ("截止日期", "due", 12),
        ("配合部门", "co", 28),
        ("出处", "source", 22),
        ("目标", "targets", 30),
        ("关联指标", "indicators", 18),
    ],
    DEPS: [
        ("前置里程碑", "predecessor", 22),
        ("后续里程碑", "successor", 22),
        ("滞后天数", "lag_days", 9),
        ("推断", "inferred", 6),
        ("理由", "reason", 50),
    ],
    INDS: [
        ("键", "key", 10),
        ("表", "table", 22),
        ("一级指标", "category", 16),
        ("编号", "number", 6),
        ("二级指标", "name", 22),
        ("指标释义", "definition", 50),
        ("单位", "unit", 8),
        ("分项", "parts", 30),
        ("★", "star", 4),
        ("四星目标", "four_star.target", 36),
        ("四星运算", "four_star.op", 8),
        ("四星值", "four_star.value", 8),
        ("四星分项", "four_star.part", 10),
        ("四星附加条件", "four_star.and", 16),
        ("四星期限", "four_star.due", 12),
        ("五星目标", "five_star.target", 36),
        ("五星运算", "five_star.op", 8),
        ("五星值", "five_star.value", 8),
        ("五星分项", "five_star.part", 10),
        ("五星附加条件", "five_star.and", 16),
        ("五星期限", "five_star.due", 12),
        ("四星权重", "weight_four_star", 8),
        ("五星权重", "weight_five_star", 8),
        ("责任部门（首位牵头）", "departments", 28),
        ("标准指标", "standard.indicator", 8),
        ("标准指标名称", "standard.quantity", 24),
        ("标准单位", "standard.unit", 8),
        ("标准分项", "standard.part", 10),
    ],
}
SHEETS = [PLAN, DEPTS, TREE, DEPS, INDS]
BANDS = ("four_star", "five_star")

_TARGET = re.compile(
    r"^(?P<metric>.+?)(?P<op>>=|<=|==|>|<)(?P<value>-?\d+(?:\.\d+)?)(?P<unit>.*?)"
    r"(?:\s*(?:→|->)\s*(?P<indicator>[a-z0-9-]+)(?:/(?P<part>[a-z][a-z0-9_]*))?)?$"
)
_PART = re.compile(r"^(?P<key>[a-z][a-z0-9_]*)\s*=\s*(?P<name>[^|]+?)\s*(?:\|\s*(?P<unit>.*?)\s*)?$")
_CONDITION = re.compile(r"^(?P<part>[a-z][a-z0-9_]*)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)$")
_ITEMS = re.compile(r"[;；]\s*")


def _number_text(value) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _number(raw: str):
    return float(raw) if "." in raw else int(raw)


def _compact(target: dict) -> str:
    unit = target.get("unit") or ""
    text = f"{target['metric']}{target['op']}{_number_text(target['value'])}{unit}"
    if target.get("indicator"):  # the indicator (and part) whose value the target declares
        text += f" → {target['indicator']}" + (f"/{target['part']}" if target.get("part") else "")
    return text


def _parse_one(text: str) -> dict | None:
    m = _TARGET.match(text.strip())
    if m is None:
        return None
    out = {"metric": m["metric"].strip(), "op": m["op"], "value": _number(m["value"])}
    out["unit"] = m["unit"].strip() or None
    out |= {k: m[k] for k in ("indicator", "part") if m[k]}
    return out


def _json_list(text: str) -> list | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, list) else None


def _items(text: str, parse) -> list | None:
    """Items of a compact `a; b; c` text, each read by `parse`; JSON lists as they are."""
    text = text.strip()
    if text.startswith("["):
        return _json_list(text)
    items = [parse(p.strip()) for p in _ITEMS.split(text) if p.strip()]
    return None if any(i is None for i in items) else items


def _text(items: list[dict] | None, compact, parse) -> str | None:
    """The compact text when it reads back exactly (keys, types, values), else JSON."""
    if not items:
        return None
    try:
        text = "; ".join(compact(t) for t in items)
    except (KeyError, TypeError):
        text = None
    if text is not None:
        back = _items(text, parse)
        if back == items and _same_types(back, items):
            return text
    return json.dumps(items, ensure_ascii=False)


def _parse_part(text: str) -> dict | None:
    m = _PART.match(text)
    return {"key": m["key"], "name": m["name"], "unit": m["unit"] or None} if m else None


def _compact_part(part: dict) -> str:
    unit = part.get("unit")
    return f"{part['key']}={part['name']}" + (f"|{unit}" if unit is not None else "")


def _parse_condition(text: str) -> dict | None:
    m = _CONDITION.match(text)
    return {"part": m["part"], "op": m["op"], "value": _number(m["value"])} if m else None


def _compact_condition(cond: dict) -> str:
    return f"{cond['part']}{cond['op']}{_number_text(cond['value'])}"


def parts_text(parts: list[dict] | None) -> str | None:
    """A compound indicator's parts as `realtime=公共汽电车来车实时预报率|%; stops=…|%`."""
    return _text(parts, _compact_part, _parse_part)


def parse_parts(text: str) -> list[dict] | None:
    return _items(text, _parse_part)


def conditions_text(conds: list[dict] | None) -> str | None:
    """A cell's further conditions as `stops>=10; other<5`."""
    return _text(conds, _compact_condition, _parse_condition)


def parse_conditions(text: str) -> list[dict] | None:
    return _items(text, _parse_condition)


def parse_targets(text: str) -> list[dict] | None:
    """A milestone's targets from the compact text (`metric>=80% → wh-i01/part; …`) or
    JSON; None if unreadable."""
    return _items(text, _parse_one)


def targets_text(targets: list[dict]) -> str | None:
    """The compact text when it reads back exactly (keys, types, values), else JSON."""
    return _text(targets, _compact, _parse_one)


def _same_types(a: list[dict], b: list[dict]) -> bool:
    return all(
        set(x) == set(y) and all(type(x[k]) is type(y[k]) for k in x) for x, y in zip(a, b, strict=True)
    )


def label_to_code(value: str, labels: dict) -> str:
    """A kind given as its Chinese label or its code, as the code (unknown: unchanged)."""
    for code, label in labels.items():
        if value == label:
            return code
    return value
