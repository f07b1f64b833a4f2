"""Typed cell reads of the Excel layout (excel_layout.py), errors at their cells.

Cell problems (a number that is not one, a bad date, a missing sheet or column,
an unknown parent) are collected as errors naming sheet, row and column, e.g.
`指标!K12: 四星值 “八十” 不是数字`. `where` maps each schema path (`indicators[3]`)
to its row, so the schema's own errors can be located the same way (excel.py).
"""

import math
import re
from datetime import date, datetime

from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from app.planio import excel_layout as L
from app.planio.checker import DATE_RE
from app.planio.reader import PlanError

LIST_SPLIT = re.compile(r"[、，,;；\n]+")


class Row:
    """One sheet row: typed reads of its cells, each problem recorded at its cell."""

    def __init__(self, book, sheet: str, number: int, values: dict, columns: dict):
        self.book, self.sheet, self.line = book, sheet, number
        self.values, self.columns = values, columns  # field -> value; field -> (letter, header)

    def ref(self, field: str) -> str:
        return f"{self.sheet}!{self.columns[field][0]}{self.line}"

    def err(self, field: str, problem: str) -> None:
        self.book.err(self.ref(field), f"{self.columns[field][1]} {problem}")

    def raw(self, field: str):
        value = self.values.get(field)
        return None if isinstance(value, str) and not value.strip() else value

    def text(self, field: str) -> str | None:
        value = self.raw(field)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime | date):
            return value.strftime("%Y-%m-%d")
        return None if value is None else str(value)

    def number(self, field: str, *, whole: bool = False):
        value = self.raw(field)
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            number = value
        else:
            number = _parse_number(str(value).strip())
        if isinstance(number, float) and not math.isfinite(number):
            self.err(field, f"“{value}” 不是有限的数字")
            return None
        if number is None and value is not None or whole and number is not None and number != int(number):
            self.err(field, f"“{value}” 不是{'整数' if whole else '数字'}")
            return None
        return int(number) if whole and number is not None else number

    def date(self, field: str) -> str | None:
        value = self.raw(field)
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2958466:
            return from_excel(value).date().isoformat()
        text = str(value).strip()
        if DATE_RE.match(text):
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                pass
        self.err(field, f"“{value}” 不是日期（YYYY-MM-DD）")
        return None

    def names(self, field: str) -> list[str]:
        text = self.text(field)
        return [n.strip() for n in LIST_SPLIT.split(text) if n.strip()] if text else []

    def flag(self, field: str, true: tuple, false: tuple = ("", L.NO, "否", "false", "False")) -> bool:
        text = (self.text(field) or "").strip()
        if text in true:
            return True
        if text not in false:
            self.err(field, f"“{text}” 应为 {true[0]} 或留空")
        return False

    def kind(self, field: str, labels: dict) -> str | None:
        text = self.text(field)
        return None if text is None else L.label_to_code(text.strip(), labels)


def _parse_number(text: str):
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


class Book:
    def __init__(self, filename: str):
        self.file = filename
        self.errors: list[PlanError] = []
        self.structural = False  # a sheet or column is missing
        self.where: dict[str, tuple] = {}  # schema path -> (sheet, row, {field: (letter, header)})

    def err(self, ref: str, problem: str) -> None:
        self.errors.append(PlanError(self.file, ref, problem))

    def rows(self, wb, sheet: str) -> list[Row]:
        if sheet not in wb.sheetnames:
            self.structural = True
            self.err(sheet, f"缺少工作表 “{sheet}”")
            return []
        ws = wb[sheet]
        grid = list(ws.iter_rows(values_only=True))
        headers = {str(h).strip(): i for i, h in enumerate(grid[0] if grid else ()) if h is not None}
        columns, index = {}, {}
        for header, field, _ in L.COLUMNS[sheet]:
            if header not in headers:
                self.structural = True
                self.err(f"{sheet}!1", f"缺少列 “{header}”")
                continue
            index[field] = headers[header]
            columns[field] = (get_column_letter(headers[header] + 1), header)
        out = []
        for number, values in enumerate(grid[1:], 2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            cells = {f: values[i] if i < len(values) else None for f, i in index.items()}
            out.append(Row(self, sheet, number, cells, columns))
        return out
