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
        ("★", "star", 4),
        ("四星目标", "four_star.target", 36),
        ("四星运算", "four_star.op", 8),
        ("四星值", "four_star.value", 8),
        ("四星期限", "four_star.due", 12),
        ("五星目标", "five_star.target", 36),
        ("五星运算", "five_star.op", 8),
        ("五星值", "five_star.value", 8),
        ("五星期限", "five_star.due", 12),
        ("四星权重", "weight_four_star", 8),
        ("五星权重", "weight_five_star", 8),
        ("责任部门（首位牵头）", "departments", 28),
        ("标准指标", "standard_indicator", 8),
    ],
}
SHEETS = [PLAN, DEPTS, TREE, DEPS, INDS]
BANDS = ("four_star", "five_star")

_TARGET = re.compile(r"^(?P<metric>.+?)(?P<op>>=|<=|==|>|<)(?P<value>-?\d+(?:\.\d+)?)(?P<unit>.*)$")


def _number_text(value) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _compact(target: dict) -> str:
    unit = target.get("unit") or ""
    return f"{target['metric']}{target['op']}{_number_text(target['value'])}{unit}"


def _parse_one(text: str) -> dict | None:
    m = _TARGET.match(text.strip())
    if m is None:
        return None
    raw = m["value"]
    value = float(raw) if "." in raw else int(raw)
    return {"metric": m["metric"].strip(), "op": m["op"], "value": value, "unit": m["unit"].strip() or None}


def parse_targets(text: str) -> list[dict] | None:
    """A milestone's targets from the compact text or JSON; None if unreadable."""
    text = text.strip()
    if text.startswith("["):
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, list) else None
    parts = [p for p in re.split(r"[;；]\s*", text) if p.strip()]
    targets = [_parse_one(p) for p in parts]
    return None if any(t is None for t in targets) else targets


def targets_text(targets: list[dict]) -> str | None:
    """The compact text when it reads back exactly (keys, types, values), else JSON."""
    if not targets:
        return None
    try:
        text = "; ".join(_compact(t) for t in targets)
    except (KeyError, TypeError):
        text = None
    if text is not None and parse_targets(text) == targets and _same_types(parse_targets(text), targets):
        return text
    return json.dumps(targets, ensure_ascii=False)


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
