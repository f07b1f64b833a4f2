"""A plan as an Excel workbook and back (issue 3, item 8).

- `plan_to_xlsx(code)`: the plan in the database as .xlsx bytes (excel_write.py);
- `xlsx_to_plan(source, filename)`: plan-file data and cell errors (excel_read.py);
- `check_xlsx` adds the plan schema's errors, each located at its sheet, row and
  column; `import_xlsx` loads a clean workbook through the loader in one
  transaction and writes nothing when there is any error.
"""

import re

from app.planio.excel_read import read_xlsx, source_name, xlsx_to_plan
from app.planio.excel_write import plan_to_xlsx
from app.planio.loader import load_parsed
from app.planio.reader import PlanError
from app.planio.report import LoadReport
from app.planio.schema import validate

__all__ = ["check_xlsx", "import_xlsx", "plan_to_xlsx", "xlsx_to_plan"]

TOP_SHEETS = {
    "departments": "部门",
    "nodes": "任务与里程碑",
    "dependencies": "依赖关系",
    "indicators": "指标",
}
INDEX = re.compile(r"\[\d+\]$")
REF = re.compile(r"^(?P<sheet>[^!]+)(?:!(?P<col>[A-Z]*)(?P<row>\d+))?$")
SHEET_ORDER = ["(文件)", "计划", *TOP_SHEETS.values()]


def _order(error: PlanError) -> tuple:
    """Sheet (in workbook order), row, then column (A < Z < AA)."""
    m = REF.match(error.path)
    if m is None:
        return (len(SHEET_ORDER), 0, 0, "")
    sheet = SHEET_ORDER.index(m["sheet"]) if m["sheet"] in SHEET_ORDER else len(SHEET_ORDER)
    col = m["col"] or ""
    return (sheet, int(m["row"] or 0), len(col), col)


def _locate(where: dict, path: str) -> tuple[str, str | None]:
    """The cell (`指标!K12`) of a schema path, and its column header if known."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix not in where:
            continue
        sheet, row, columns = where[prefix]
        rest = [INDEX.sub("", p) for p in parts[i:]]
        for j in range(len(rest), -1, -1):
            field = ".".join(rest[:j])
            if field in columns:
                letter, header = columns[field]
                return f"{sheet}!{letter}{row}", header
        return f"{sheet}!{row}", None
    top = INDEX.sub("", parts[0])
    return TOP_SHEETS.get(top, "计划"), None


def check_xlsx(source, filename: str | None = None) -> tuple[dict | None, list[PlanError]]:
    """Plan data and every error: the cells', then the schema's at their cells."""
    data, book = read_xlsx(source, filename)
    errors = list(book.errors)
    if data is None or book.structural:
        return data, errors
    bad = {e.path for e in errors}
    for error in validate(data, book.file):
        ref, header = _locate(book.where, error.path)
        if ref in bad:  # the cell's own error already says it
            continue
        problem = f"{header}: {error.problem}" if header else error.problem
        errors.append(PlanError(book.file, ref, f"{problem} [{error.path}]"))
    return data, sorted(errors, key=_order)


def import_xlsx(source, filename: str | None = None, *, commit: bool = True) -> LoadReport:
    """Load a workbook as a plan file. On any error the report lists them all and
    nothing has been written."""
    data, errors = check_xlsx(source, filename)
    name = source_name(source, filename)
    if errors:
        return LoadReport(files=[name], errors=errors)
    return load_parsed([(name, data)], commit=commit)
