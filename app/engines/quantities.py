"""Measured quantities of plan indicators and of the standard they are assessed by (pure).

A plan indicator measures one quantity, or several ("parts") when its target names
several (来车实时预报率 **and** 电子站牌覆盖率). A link to a standard indicator names
the standard's quantity and unit, and which part feeds it. This module knows:

- the units of the fields of the standard's compound inputs (spec/scoring.md);
- the conditions of a plan target cell: `{part, op, value}` plus `and: [...]`,
  all of which must hold;
- `link_problems`: why a link does not feed the quantity it names (the loader's check);
- `feed`: the standard input a stored plan value feeds, or None.
"""

from __future__ import annotations

import functools

from app.engines.scoring import OPS, SHAPES, ScoringError, score
from app.engines.standards import load_standard

# Units of the fields of the compound standard inputs (the cells count departments
# in 个, pilots in 项 and parks in 家; the rates are percentages).
FIELD_UNITS = {
    "coverage_intact": {"coverage": "%", "intact": "%"},
    "contribution_departments": {"contribution": "%", "departments": "个"},
    "pilots": {"national": "项", "provincial": "项", "related": "项"},
    "parks": {"municipal": "家", "provincial": "家"},
}


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


@functools.lru_cache(maxsize=16)
def standard_of(code: str) -> dict:
    """The loaded standard, cached. Read-only: never change what it returns."""
    return load_standard(code)


def standard_row(std: dict, number) -> dict | None:
    return next((i for i in std.get("indicators") or [] if i["number"] == str(number)), None)


def input_fields(row: dict) -> dict | None:
    """{field: unit} of a compound standard input (the three parts of a `parts` input
    carry the indicator's unit); None for a scalar input."""
    kind = row["input"]
    if kind in FIELD_UNITS:
        return FIELD_UNITS[kind]
    if kind == "parts":
        return {p: row["unit"] for p in row["parts"]}
    return None


def required_fields(row: dict) -> tuple:
    kind = row["input"]
    if kind in SHAPES:
        return SHAPES[kind][0]
    if kind == "parts":
        return tuple(row["parts"])
    return ()


# -- target cells -------------------------------------------------------------------


def cell_conditions(part, op, value, more) -> list[tuple]:
    """[(part, op, value), ...] of one target cell: its own condition, then its `and` list.
    Empty for a descriptive cell (op null)."""
    if op is None or value is None:
        return []
    out = [(part, op, value)]
    for cond in more or []:
        out.append((cond.get("part"), cond.get("op"), cond.get("value")))
    return out


def meets(conditions: list[tuple], value) -> bool | None:
    """Whether a value meets every condition: True / False, or None when it cannot be
    judged (a part missing, or not a number). A condition without a part is on the
    number itself."""
    for part, op, target in conditions:
        x = value.get(part) if isinstance(value, dict) and part is not None else value
        if part is not None and not isinstance(value, dict):
            return None
        if not is_number(x):
            return None
        if not OPS[op](x, target):
            return False
    return True


# -- links ------------------------------------------------------------------------


def describe_row(code: str, row: dict) -> str:
    return f"{code} indicator {row['number']} ({row['name']})"


def link_problems(
    link: dict, unit, parts: list[dict] | None, std: dict, name: str | None = None
) -> list[tuple[str, str]]:
    """[(field of the link, problem)] for a link {indicator, quantity, unit, part} of a
    plan indicator (named `name`) with this unit and these parts; empty when the link
    is quantity-true."""
    number = link.get("indicator")
    row = standard_row(std, number)
    if row is None:
        return [("indicator", f"the standard {std['code']} has no indicator {number!r}")]
    what = describe_row(std["code"], row)
    out = []
    if link.get("quantity") != row["name"]:
        out.append(("quantity", f"{link.get('quantity')} is not the quantity {row['name']} of {what}"))
    if link.get("unit") != row["unit"]:
        out.append(("unit", f"{_unit(link.get('unit'))} is not the unit {_unit(row['unit'])} of {what}"))
    by_key = {p["key"]: p for p in parts or []}
    part = link.get("part")
    plan_indicator = f"the plan indicator ({name})" if name else "the plan indicator"
    fields = input_fields(row)
    if part is not None:
        if not by_key:
            out.append(("part", f"{part!r}: the plan indicator has no parts"))
            return out
        if part not in by_key:
            out.append(("part", f"{part!r} is not a part of the plan indicator ({', '.join(by_key)})"))
            return out
        if fields is not None and row["input"] != "parts":
            out.append(("part", f"one part cannot feed the compound input of {what}"))
        fed_unit, fed = by_key[part].get("unit"), f"part {part} ({by_key[part].get('name')})"
    elif by_key:
        if fields is None:
            keys = ", ".join(by_key)
            out.append(
                ("part", f"missing: the plan indicator has parts ({keys}); name the one that feeds {what}")
            )
            return out
        for key, p in by_key.items():
            if key not in fields:
                out.append(("part", f"part {key} is not a field of {what} ({', '.join(fields)})"))
            elif p.get("unit") != fields[key]:
                out.append(
                    (
                        "unit",
                        f"part {key} is in {_unit(p.get('unit'))}, field {key} of {what} in {fields[key]}",
                    )
                )
        missing = [f for f in required_fields(row) if f not in by_key]
        if missing:
            out.append(("part", f"the plan indicator's parts lack {', '.join(missing)} of {what}"))
        fed_unit, fed = unit, plan_indicator
    else:
        fed_unit, fed = unit, plan_indicator
    if fed_unit != link.get("unit"):
        out.append(("unit", f"{_unit(link.get('unit'))} is not the unit {_unit(fed_unit)} of {fed}"))
    return out


def _unit(unit) -> str:
    return "null (descriptive)" if unit is None else str(unit)


def feed(std: dict, number, part, plan_parts, raw):
    """The standard input a stored plan value feeds to indicator `number`, or None.

    - `part` set (one measured part of a compound plan indicator feeds a scalar
      standard input): that part's number, if the value holds it;
    - the plan indicator has parts but the link names none (its parts are the fields
      of the standard's compound input): the value restricted to those fields, or a
      {"level": n} as it is;
    - otherwise the value itself.
    The result must be an input the scoring engine accepts, else None.
    """
    if raw is None or number is None:
        return None
    row = standard_row(std, number)
    if row is None:
        return None
    if part is not None:
        if not isinstance(raw, dict) or not is_number(raw.get(part)):
            return None
        value = raw[part]
    elif plan_parts and isinstance(raw, dict) and "level" not in raw:
        fields = input_fields(row) or {}
        value = {k: v for k, v in raw.items() if k in fields}
    else:
        value = dict(raw) if isinstance(raw, dict) else raw
    try:
        score(std, {row["number"]: value})
    except ScoringError:
        return None
    return value
