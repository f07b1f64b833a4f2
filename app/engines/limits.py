"""Bounds on every number and date a user or a file can give: one rule for the web
forms, the plan files (YAML and Excel), the commands and the coming API.

Pure Python (no Flask, no database). Each `*_problem` function answers None when the
value is within bounds, else one line in Chinese naming the field and the allowed
range; callers put that line where their user sees it (a form error, a PlanError at
its file/sheet/row, a command's `Error:` line).
"""

import math
from datetime import date

PERCENT_UNIT = "%"
PERCENT_MIN, PERCENT_MAX = 0, 100
# A measured quantity beyond this is a typing accident, whatever its unit.
NUMBER_MAX = 1e15
LAG_MIN_DAYS, LAG_MAX_DAYS = 0, 365
# Due dates may move past the plan's end by this much (the last milestones of a plan
# often slip into the next one); never before the plan starts.
LATE_MARGIN_YEARS = 1
# No indicator value is measured before this day.
EARLIEST_VALUE_DATE = date(2000, 1, 1)
# JSON given to a command or a page: deeper than this is refused before parsing.
JSON_MAX_DEPTH = 64


def _fmt(x) -> str:
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < NUMBER_MAX:
        return str(int(x))
    return f"{x:g}" if isinstance(x, float) else str(x)


def cn_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def number_problem(x, label: str, unit: str | None = None, *, whole: bool = False) -> str | None:
    """A measured value: finite, and 0–100 where the unit is %; |x| ≤ NUMBER_MAX otherwise."""
    if not is_number(x):
        return f"{label}应为数字，收到 {x!r}。"
    if not math.isfinite(x):
        return f"{label}应为有限的数字，收到 {x!r}。"
    if unit == PERCENT_UNIT and not whole:
        return percent_problem(x, label)
    if abs(x) > NUMBER_MAX:
        return f"{label}超出允许范围（绝对值不超过 {NUMBER_MAX:g}），收到 {_fmt(x)}。"
    if whole and x != int(x):
        return f"{label}应为整数，收到 {_fmt(x)}。"
    return None


def percent_problem(x, label: str) -> str | None:
    if not is_number(x) or not math.isfinite(x):
        return f"{label}应为 {PERCENT_MIN} 到 {PERCENT_MAX} 之间的百分数，收到 {x!r}。"
    if x < PERCENT_MIN:
        return f"{label}不能为负数，收到 {_fmt(x)}（百分数应在 {PERCENT_MIN} 到 {PERCENT_MAX} 之间）。"
    if x > PERCENT_MAX:
        return f"{label}是百分数，应在 {PERCENT_MIN} 到 {PERCENT_MAX} 之间，收到 {_fmt(x)}。"
    return None


def count_problem(x, label: str) -> str | None:
    """A count: a whole number, not negative."""
    if not is_number(x) or not math.isfinite(x) or x != int(x):
        return f"{label}应为整数，收到 {x!r}。"
    if x < 0:
        return f"{label}不能为负数，收到 {_fmt(x)}。"
    if x > NUMBER_MAX:
        return f"{label}超出允许范围（不超过 {NUMBER_MAX:g}），收到 {_fmt(x)}。"
    return None


def lag_problem(days, label: str = "间隔天数") -> str | None:
    if not isinstance(days, int) or isinstance(days, bool):
        return f"{label}应为整数，收到 {days!r}。"
    if not LAG_MIN_DAYS <= days <= LAG_MAX_DAYS:
        return f"{label}应在 {LAG_MIN_DAYS} 到 {LAG_MAX_DAYS} 之间，收到 {days}。"
    return None


def add_years(d: date, years: int) -> date:
    """The same day `years` later (29 February becomes the 28th)."""
    year = d.year + years
    try:
        return d.replace(year=year)
    except ValueError:
        return d.replace(year=year, day=28)


def due_bounds(period_start: date, period_end: date) -> tuple[date, date]:
    """The first and last allowed due date of a plan: its start to a year after its end."""
    return period_start, add_years(period_end, LATE_MARGIN_YEARS)


def due_problem(d: date, period_start: date, period_end: date, label: str = "完成期限") -> str | None:
    """A due date (milestone, extension, target, indicator band) within the plan's period + margin."""
    first, last = due_bounds(period_start, period_end)
    if first <= d <= last:
        return None
    return (
        f"{label}{cn_day(d)}超出允许范围：应在计划期内或计划结束后一年内（{cn_day(first)}至{cn_day(last)}）。"
    )


def as_of_problem(d: date, today: date, label: str = "数据截至日期") -> str | None:
    """The day a value was measured: not after today, not before EARLIEST_VALUE_DATE."""
    if d > today:
        return f"{label}不能晚于今天（{cn_day(today)}），收到{cn_day(d)}。"
    if d < EARLIEST_VALUE_DATE:
        return f"{label}不能早于{cn_day(EARLIEST_VALUE_DATE)}，收到{cn_day(d)}。"
    return None


def reply_problem(d: date, today: date, period_end: date, label: str = "答复期限") -> str | None:
    """A 督办 reply date: from today to a year after the plan's end."""
    last = max(add_years(period_end, LATE_MARGIN_YEARS), today)
    if d < today:
        return f"{label}不能早于今天（{cn_day(today)}），收到{cn_day(d)}。"
    if d > last:
        return (
            f"{label}超出允许范围：应在今天至计划结束后一年内"
            f"（{cn_day(today)}至{cn_day(last)}），收到{cn_day(d)}。"
        )
    return None


def json_depth(data, limit: int | None = None) -> int:
    """The deepest nesting of [ and { in JSON text or bytes (brackets inside strings do not
    count). A linear scan, so a document too deep for json.loads is measured without
    recursion; with `limit` it stops counting once the limit is passed."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def json_depth_problem(text: str, label: str, limit: int = JSON_MAX_DEPTH) -> str | None:
    if json_depth(text) > limit:
        return f"{label}嵌套过深（超过 {limit} 层）。"
    return None
