"""The community matrix as an .xlsx workbook (openpyxl, as the province export)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from app import clock
from app.dates import cn_date
from app.models.community import CELL_LABELS

HEADER_FONT = Font(bold=True)
FILLS = {
    "met": PatternFill("solid", fgColor="C6EFCE"),
    "pending": PatternFill("solid", fgColor="FFEB9C"),
    "not_met": PatternFill("solid", fgColor="FFC7CE"),
    "empty": PatternFill("solid", fgColor="EDEDED"),
}


def _text(cell, value):
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula
    return cell


def matrix_xlsx(region, view: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "评估矩阵"
    fmt = view["fmt"]
    rate = view["region_rate"]
    _text(
        ws.cell(1, 1),
        f"{region.name}智慧社区评估矩阵（截至{cn_date(clock.today())}）："
        f"智慧社区 {view['region_smart']} 个 / "
        f"社区 {view['region_total']} 个，覆盖率 {fmt(rate) + '%' if rate is not None else '—'}；"
        f"每个社区须至少 {view['required']} 项审核达标",
    ).font = HEADER_FONT
    headers = ["街道 / 镇", "社区", "户数", "达标项数", "智慧社区"] + [
        f"{s['number']} {s['name']}（{view['blocked'][s['number']]} 个社区未达标）" for s in view["columns"]
    ]
    for col, h in enumerate(headers, 1):
        _text(ws.cell(2, col), h).font = HEADER_FONT
        ws.column_dimensions[get_column_letter(col)].width = 14 if col > 5 else 16
    for r, row in enumerate(view["rows"], 3):
        c = row["community"]
        for col, value in enumerate(
            [c.street.name, c.name, c.households, row["met"], "是" if row["smart"] else "否"], 1
        ):
            _text(ws.cell(r, col), value)
        for col, (_, state) in enumerate(row["cells"], 6):
            _text(ws.cell(r, col), CELL_LABELS[state]).fill = FILLS[state]
    ws.freeze_panes = "F3"
    streets = wb.create_sheet("街道进度")
    for col, h in enumerate(
        ["街道 / 镇", "社区数", "智慧社区数", "覆盖率（%）", "审核达标项数", "应评项数"], 1
    ):
        _text(streets.cell(1, col), h).font = HEADER_FONT
        streets.column_dimensions[get_column_letter(col)].width = 16
    for r, s in enumerate(view["streets"], 2):
        values = [s["street"].name, s["total"], s["smart"], s["rate"], s["items_met"], s["items_total"]]
        for col, value in enumerate(values, 1):
            _text(streets.cell(r, col), value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
