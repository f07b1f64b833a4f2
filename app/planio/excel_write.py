"""A plan from the database as an Excel workbook a person can read (layout: excel_layout.py).

The workbook holds the plan file's content: a milestone's date is its planned
(baseline) due date; progress and granted extensions are not part of it.
"""

import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.planio import excel_layout as L
from app.planio.export import export_plan

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
WIDE = 30  # columns at least this wide wrap their text


def _put(ws, row: int, col: int, value):
    cell = ws.cell(row, col, value)
    if isinstance(value, str):
        cell.data_type = "s"  # "==" or "=…" is text here, never a formula
    elif isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell


def _date(text):
    return date.fromisoformat(text) if text else None


def _sheet(wb, title: str, rows: list[list], freeze: str = "A2"):
    ws = wb.create_sheet(title)
    columns = L.COLUMNS[title]
    for col, (header, _, width) in enumerate(columns, 1):
        cell = _put(ws, 1, col, header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, values in enumerate(rows, 2):
        for col, value in enumerate(values, 1):
            cell = _put(ws, r, col, value)
            cell.alignment = WRAP if columns[col - 1][2] >= WIDE else TOP
    ws.freeze_panes = freeze
    return ws


def _plan_sheet(wb, plan: dict) -> None:
    ws = wb.active
    ws.title = L.PLAN
    for col, (header, _, width) in enumerate(L.COLUMNS[L.PLAN], 1):
        cell = _put(ws, 1, col, header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(col)].width = width
    r = 1
    for label, path in L.PLAN_ROWS:
        value = plan
        for part in path.split("."):
            value = value[part]
        if path in L.PLAN_DATES:
            value = _date(value)
        elif path == "region.kind":
            value = L.REGION_KIND_LABELS.get(value, value)
        r += 1
        _put(ws, r, 1, label)
        _put(ws, r, 2, value).alignment = WRAP
    for target in plan["targets"] or []:
        r += 1
        _put(ws, r, 1, f"{target['stars']}星目标")
        _put(ws, r, 2, _date(target["due"]))
    ws.freeze_panes = "A2"


def _tree_rows(plan: dict) -> list[list]:
    milestones = {m["key"]: m for m in plan["milestones"]}
    rows = []

    def walk(nodes, parent):
        for n in nodes:
            kind = L.NODE_KIND_LABELS.get(n["kind"], n["kind"])
            depts = L.SEP.join(n["departments"]) or None
            rows.append([L.NODE, n["key"], parent, kind, n["number"], n["title"], n["text"] or None, depts])
            for key in n["milestones"]:
                m = milestones[key]
                rows.append(
                    [
                        L.MILESTONE,
                        m["key"],
                        n["key"],
                        None,
                        None,
                        m["title"],
                        m["text"] or None,
                        m["lead"],
                        _date(m["baseline_due"]),
                        L.SEP.join(m["co"]) or None,
                        m["source"],
                        L.targets_text(m["targets"]),
                        L.SEP.join(m["indicators"]) or None,
                    ]
                )
            walk(n["children"], n["key"])

    walk(plan["nodes"], None)
    return rows


def _indicator_row(ind: dict) -> list:
    row = [ind[f] for f in ("key", "table", "category", "number", "name", "definition", "unit")]
    row.append(L.parts_text(ind["parts"]))
    row.append(L.STAR if ind["star"] else None)
    for band in L.BANDS:
        cell = ind[band] or {}
        row += [cell.get("target"), cell.get("op"), cell.get("value"), cell.get("part")]
        row += [L.conditions_text(cell.get("and")), _date(cell.get("due"))]
    row += [ind["weight_four_star"], ind["weight_five_star"], L.SEP.join(ind["departments"])]
    link = ind["standard"] or {}
    row += [link.get("indicator"), link.get("quantity"), link.get("unit"), link.get("part")]
    return row


def plan_to_xlsx(code: str, path=None) -> bytes:
    """Plan CODE as .xlsx bytes (also written to `path` if given). LookupError if unknown."""
    plan = export_plan(code)
    wb = Workbook()
    _plan_sheet(wb, plan)
    depts = [[d["name"], L.DEPARTMENT_KIND_LABELS.get(d["kind"], d["kind"])] for d in plan["departments"]]
    _sheet(wb, L.DEPTS, depts)
    _sheet(wb, L.TREE, _tree_rows(plan), freeze="C2")
    deps = [
        [d["predecessor"], d["successor"], d["lag_days"], L.YES if d["inferred"] else L.NO, d["reason"]]
        for d in plan["dependencies"]
    ]
    _sheet(wb, L.DEPS, deps)
    _sheet(wb, L.INDS, [_indicator_row(i) for i in plan["indicators"]], freeze="F2")
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    if path is not None:
        with open(path, "wb") as fh:
            fh.write(data)
    return data
