"""The shape of an indicator's value: entry fields per input kind of the standard
indicator it maps to, reading a submitted form into a value (spec/scoring.md),
validation by the scoring engine with its message put into Chinese, and a
readable rendering of a stored value."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from app.engines import limits
from app.engines.quantities import input_fields
from app.engines.scoring import ScoringError, score
from app.engines.standards import load_standard

KIND_LABELS = {
    "number": "数值",
    "rank": "排名",
    "level-only": "描述性（按达到的档次评定）",
    "coverage_intact": "覆盖率与完好率（均须达到）",
    "contribution_departments": "贡献率与服务部门数",
    "parts": "三个分项（取平均）",
    "pilots": "试点数量",
    "parks": "园区数量",
    "deduction": "扣分项（事件起数）",
    "plan_parts": "多个分项（目标须各分项均达到）",
}
COLUMNS = ("一星", "二星", "三星", "四星", "五星")
PART_LABELS = {
    "wifi": "学校重点区域无线网络覆盖率",
    "multimedia": "互动式多媒体教室比例",
    "remote": "远程教育覆盖率",
    "air": "空气质量信息化监测覆盖率",
    "water": "水体质量信息化监测覆盖率",
    "noise": "噪音信息化监测覆盖率",
}


@dataclass(frozen=True)
class Field:
    name: str  # the form input's name and the key in a structured value ("value" for a scalar)
    label: str
    unit: str | None = None
    whole: bool = False
    required: bool = True


COMPOUND_FIELDS = {
    "coverage_intact": (
        Field("coverage", "高清视频监控覆盖率（%）", "%"),
        Field("intact", "视频监控摄像机完好率（%）", "%"),
    ),
    "contribution_departments": (
        Field("contribution", "打击犯罪贡献率（%）", "%"),
        Field("departments", "服务的其他政府部门数（个）", "个", whole=True),
    ),
    "pilots": (
        Field("national", "国家级智慧城市试点（项）", "项", whole=True),
        Field("provincial", "省级智慧城市试点（项）", "项", whole=True),
        Field("related", "其他智慧城市相关领域试点（项，可不填，默认 0）", "项", whole=True, required=False),
    ),
    "parks": (
        Field("municipal", "市级数字经济园区（家）", "家", whole=True),
        Field("provincial", "省级数字经济园区（家）", "家", whole=True),
    ),
}


@dataclass(frozen=True)
class Level:
    n: int
    title: str
    text: str
    points: int | None  # None: a "/" column, or no standard


@dataclass
class EntrySpec:
    """How one indicator's value is entered and checked."""

    name: str  # what error messages name
    kind: str
    unit: str | None
    fields: tuple[Field, ...]
    levels: tuple[Level, ...] = ()
    level_required: bool = False
    standard: dict | None = None  # the loaded standard, when the indicator maps to one
    std: dict | None = None  # the standard indicator
    notes: list[str] = field(default_factory=list)
    feed_part: str | None = None  # the part of a per-part value that feeds the standard
    levels_enterable: bool = True  # False: the levels only show the standard's columns

    @property
    def number(self) -> str | None:
        return self.std["number"] if self.std else None

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def level_allowed(self) -> bool:
        return bool(self.levels) and self.levels_enterable

    def label(self, name: str) -> str:
        return next((f.label for f in self.fields if f.name == name), name)


class ValueInputError(ValueError):
    """A submitted value that cannot be used; messages are Chinese and name the indicator."""

    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


def _with_unit(label: str, unit: str | None) -> str:
    return f"{label}（{unit}）" if unit else label


def _scalar_field(kind: str, unit: str | None) -> Field:
    if kind == "rank":
        if unit == "%":
            return Field("value", "排名位次百分比（%，越小越靠前）", "%")
        return Field("value", "全省排名（第几名，1 为最好）", "名", whole=True)
    if kind == "deduction":
        return Field("value", "失泄密事件（起）", "起", whole=True)
    if kind == "parts":
        return Field("value", _with_unit("三项平均值", unit), unit, required=False)
    return Field("value", _with_unit("数值", unit), unit)


def _standard_levels(std: dict) -> tuple[Level, ...]:
    levels = [Level(0, "未达到任何一档", "不满足一星列的要求", 0)]
    for n, cell in enumerate(std["cells"], start=1):
        levels.append(Level(n, f"{COLUMNS[n - 1]}档", cell["text"], cell["points"]))
    return tuple(levels)


def standard_spec(standard: dict, std: dict, name: str | None = None) -> EntrySpec:
    """The entry spec of a standard indicator (the direct entry page, or a mapped plan indicator)."""
    kind, unit = std["input"], std["unit"]
    if kind == "level-only":
        fields: tuple[Field, ...] = ()
    elif kind in COMPOUND_FIELDS:
        fields = COMPOUND_FIELDS[kind]
    elif kind == "parts":
        parts = tuple(
            Field(p, _with_unit(PART_LABELS.get(p, p), unit), unit, required=False) for p in std["parts"]
        )
        fields = (_scalar_field(kind, unit), *parts)
    else:
        fields = (_scalar_field(kind, unit),)
    notes = []
    if kind == "parts":
        notes.append("填写三个分项（按等权取平均），或只填写平均值。")
    if kind == "coverage_intact":
        notes.append("两项均须达到某一档的要求才得该档分值（按较小者比较）。")
    return EntrySpec(
        name=name or f"标准第 {std['number']} 项（{std['name']}）",
        kind=kind,
        unit=unit,
        fields=fields,
        levels=() if kind == "deduction" else _standard_levels(std),
        level_required=kind == "level-only",
        standard=standard,
        std=std,
        notes=notes,
    )


def plan_standard(plan) -> dict | None:
    """The loaded standard the plan is assessed by (None if it names none, or an unknown one)."""
    if not plan.standard_code:
        return None
    try:
        return load_standard(plan.standard_code)
    except ValueError:
        return None


def _is_descriptive(ind) -> bool:
    has_text = bool(ind.four_star_target or ind.five_star_target)
    return has_text and ind.four_star_value is None and ind.five_star_value is None


def _parts_spec(ind, standard: dict | None, std: dict | None) -> EntrySpec:
    """One field per measured part of a compound plan indicator; where the link names a
    part, only that part is checked against (and scored by) the standard."""
    fields = tuple(Field(p["key"], _with_unit(p["name"], p["unit"]), p["unit"]) for p in ind.parts)
    names = "、".join(p["name"] for p in ind.parts)
    notes = [f"分别填写各分项：{names}。计划目标须各分项均达到。"]
    name = f"指标“{ind.name}”"
    feed = ind.standard_part if std is not None else None
    if feed is not None:
        part = ind.part_map.get(feed, {})
        notes.append(f"其中“{part.get('name', feed)}”计入标准第 {std['number']} 项（{std['name']}）。")
        name = f"{name}（标准第 {std['number']} 项）"
    return EntrySpec(
        name,
        "plan_parts",
        ind.unit,
        fields,
        levels=_standard_levels(std) if feed else (),
        standard=standard if feed else None,
        std=std if feed else None,
        notes=notes,
        feed_part=feed,
        levels_enterable=False,
    )


def entry_spec(ind, standard: dict | None) -> EntrySpec:
    """The entry spec of a plan indicator: one field per part for a compound one (unless
    its parts are the fields of its standard indicator's compound input); its standard
    indicator's input kind when it maps to one; otherwise a number, or a level where
    its targets are descriptive."""
    name = f"指标“{ind.name}”"
    std = None
    if standard is not None and ind.standard_indicator:
        std = next((i for i in standard["indicators"] if i["number"] == ind.standard_indicator), None)
    parts = getattr(ind, "parts", None)
    whole_compound = (
        std is not None and not getattr(ind, "standard_part", None) and input_fields(std) is not None
    )
    if parts and not whole_compound:
        return _parts_spec(ind, standard, std)
    if std is not None:
        return standard_spec(standard, std, name=f"{name}（标准第 {std['number']} 项）")
    if _is_descriptive(ind):
        levels = [Level(0, "未达到", "尚未达到计划目标描述的水平", None)]
        for n in range(1, 6):
            text = {4: ind.four_star_target, 5: ind.five_star_target}.get(n) or "—"
            levels.append(Level(n, f"{COLUMNS[n - 1]}档", text, None))
        return EntrySpec(name, "level-only", ind.unit, (), tuple(levels), level_required=True)
    return EntrySpec(name, "number", ind.unit, (_scalar_field("number", ind.unit),))


# -- reading a submitted form -----------------------------------------------------


def _number(spec: EntrySpec, f: Field, raw: str, errors: list[str]):
    try:
        x = float(raw.replace("，", "").replace(",", ""))
    except ValueError:
        errors.append(f"{f.label}必须是数字，收到“{raw}”。")
        return None
    if not math.isfinite(x):
        errors.append(f"{f.label}必须是有限的数字，收到“{raw}”。")
        return None
    # Bounds (0–100 for a %, a sane magnitude otherwise); whole numbers are the engine's to check.
    problem = limits.number_problem(x, f.label.split("（")[0], f.unit)
    if problem:
        errors.append(problem)
        return None
    return int(x) if x.is_integer() else x


def read_value(spec: EntrySpec, form) -> int | float | dict:
    """The value a form holds (a number or a structured input); ValueInputError if unusable.
    Checks the shape only: validate() asks the scoring engine about the value itself."""
    raw = {f.name: (form.get(f.name) or "").strip() for f in spec.fields}
    level = (form.get("level") or "").strip()
    errors: list[str] = []
    if level:
        if not spec.level_allowed:
            errors.append("该指标不能按档次评定，请填写数值。")
        elif any(raw.values()):
            errors.append("请填写数值或选择达到的档次，二者只选其一。")
        elif not (level.isascii() and level.isdigit()) or not 0 <= int(level) <= 5:
            errors.append(f"档次应为 0 到 5 的整数，收到“{level}”。")
        if errors:
            raise ValueInputError([f"{spec.name}：{e}" for e in errors])
        return {"level": int(level)}
    if spec.level_required:
        raise ValueInputError([f"{spec.name}：请选择达到的档次。"])
    value = _read_fields(spec, raw, errors)
    if errors:
        raise ValueInputError([f"{spec.name}：{e}" for e in errors])
    return value


def _read_fields(spec: EntrySpec, raw: dict, errors: list[str]):
    by_name = {f.name: f for f in spec.fields}
    if spec.kind == "plan_parts":
        missing = [f.label for f in spec.fields if not raw[f.name]]
        if missing:
            errors.append(f"各分项须全部填写，缺少：{'、'.join(missing)}。")
            return None
        out = {f.name: _number(spec, f, raw[f.name], errors) for f in spec.fields}
        for f in spec.fields:
            if out[f.name] is not None and out[f.name] < 0:
                errors.append(f"{f.label.split('（')[0]}不能为负数，收到 {raw[f.name]}。")
        return out
    if spec.kind == "parts":
        parts = [f for f in spec.fields if f.name != "value"]
        given = [f for f in parts if raw[f.name]]
        if given and raw["value"]:
            errors.append("请只填写三个分项，或只填写平均值。")
            return None
        if given and len(given) < len(parts):
            missing = "、".join(f.label for f in parts if not raw[f.name])
            errors.append(f"三个分项须全部填写，缺少：{missing}。")
            return None
        if given:
            return {f.name: _number(spec, f, raw[f.name], errors) for f in parts}
        if not raw["value"]:
            errors.append("请填写三个分项或平均值。")
            return None
        return _number(spec, by_name["value"], raw["value"], errors)
    if spec.kind in COMPOUND_FIELDS:
        out = {}
        for f in spec.fields:
            if not raw[f.name]:
                if f.required:
                    errors.append(f"请填写{f.label}。")
                continue
            out[f.name] = _number(spec, f, raw[f.name], errors)
        return out
    f = by_name["value"]
    if not raw["value"]:
        errors.append(f"请填写{f.label}。")
        return None
    return _number(spec, f, raw["value"], errors)


# -- checking with the scoring engine ---------------------------------------------

_PROBLEMS = [
    (r"^(.+) must be a number, got (.*)$", "{0}必须是数字，收到 {1}"),
    (r"^(.+) is a negative (?:percentage|value): (.*)$", "{0}不能为负数，收到 {1}"),
    (r"^(.+) must be a whole number, got (.*)$", "{0}必须是整数，收到 {1}"),
    (r"^(.+) is a percentage above 100: (.*)$", "{0}是百分数，应在 0 到 100 之间，收到 {1}"),
    (r"^(.+) is too large \(at most (.*)\): (.*)$", "{0}超出允许范围（不超过 {1}），收到 {2}"),
    (r"^descriptive indicator", "描述性指标只能按档次评定，请选择达到的档次"),
    (r"^a level is not allowed for the deduction", "扣分项不能按档次评定，请填写失泄密事件起数"),
    (r"^a level input is", "按档次评定时只能填写档次"),
    (r"^level must be a whole number from 0 to 5, got (.*)$", "档次应为 0 到 5 的整数，收到 {0}"),
    (r"^expected a number or parts", "请填写平均值，或完整填写三个分项"),
    (r"^expected an object with keys", "该指标须分项填写：{fields}"),
    (r"^expected keys .*missing", "该指标须分项填写：{fields}"),
    (r"^expected keys", "该指标须分项填写：{fields}"),
    (
        r"^rank position must be a percentage in \(0, 100\], got (.*)$",
        "排名位次百分比应大于 0 且不超过 100，收到 {0}",
    ),
    (
        r"^rank must be a whole number from 1 \(best\), got (.*)$",
        "排名应为从 1 起的整数（1 为最好），收到 {0}",
    ),
]


def _label_of(spec: EntrySpec, what: str) -> str:
    if what == "incident count":
        return "失泄密事件起数"
    if what == "value" and spec.feed_part:
        return spec.label(spec.feed_part).split("（")[0]
    if what == "value":
        return spec.label("value").split("（")[0] if spec.fields else "数值"
    return spec.label(what).split("（")[0]


def scoring_message(spec: EntrySpec, exc: ScoringError) -> str:
    """The engine's one-line message, in Chinese, naming the indicator."""
    problem = str(exc).partition("): ")[2] or str(exc)
    fields = "、".join(f.label.split("（")[0] for f in spec.fields if f.name != "value") or "数值"
    for pattern, template in _PROBLEMS:
        match = re.match(pattern, problem)
        if match:
            groups = list(match.groups())
            if groups and "{0}" in template and template.startswith("{0}"):
                groups[0] = _label_of(spec, groups[0])
            return f"{spec.name}：" + template.format(*groups, fields=fields) + "。"
    return f"{spec.name}：{problem}"


def validate(spec: EntrySpec, value) -> dict | None:
    """Ask the scoring engine whether the standard accepts the value; returns
    {"points", "level"} it would earn (None for an indicator without a standard)."""
    if spec.std is None:
        return None
    if spec.feed_part is not None:  # only the linked part is the standard's quantity
        if not isinstance(value, dict) or spec.feed_part not in value:
            return None
        value = value[spec.feed_part]
    try:
        result = score(spec.standard, {spec.number: value})
    except ScoringError as exc:
        raise ValueInputError([scoring_message(spec, exc)]) from None
    return result["indicators"][spec.number]


def points_of(spec: EntrySpec, value) -> dict | None:
    """Points a stored value earns under the standard; None without a standard or if refused."""
    if value is None:
        return None
    try:
        return validate(spec, value)
    except ValueInputError:
        return None


# -- rendering --------------------------------------------------------------------


def fmt_number(x) -> str:
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return f"{x:g}" if isinstance(x, float) else str(x)


def _amount(x, unit: str | None) -> str:
    if not unit:
        return fmt_number(x)
    return f"{fmt_number(x)}{unit}" if unit == "%" else f"{fmt_number(x)} {unit}"


def describe(spec: EntrySpec, value) -> str:
    """A stored value as a person reads it, e.g. 92.5%、评定为四星档、覆盖率 95%，完好率 90%."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        if set(value) == {"level"}:
            level = next((lv for lv in spec.levels if lv.n == value["level"]), None)
            return f"评定为{level.title}" if level else f"评定为第 {value['level']} 档"
        labels = {f.name: f for f in spec.fields}
        items = []
        for key, x in value.items():
            f = labels.get(key)
            items.append(f"{f.label.split('（')[0]} {_amount(x, f.unit)}" if f else f"{key} {fmt_number(x)}")
        return "，".join(items)
    return _amount(value, spec.unit)
