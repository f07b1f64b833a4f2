"""The province view as an .xlsx workbook: the same rows and figures as the page, under a
first row that says what they rest on."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.dashboard.province import TREND_DAYS, AreaRow
from app.dates import cn_date

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")

# (header, width, value of a row) — the page's columns, with its texts for P and trends.
COLUMNS = [
    ("区域", 10, lambda r: r.plan.region.name),
    ("计划", 30, lambda r: r.plan.title),
    ("评价标准", 30, lambda r: r.standard),
    ("目标星级", 9, lambda r: r.plan.target_stars),
    ("考核日", 12, lambda r: r.now.target_date if r.now else r.plan.target_date),
    ("当前得分", 9, lambda r: r.now.current_total if r.now else None),
    ("当前星级", 9, lambda r: r.now.current_stars if r.now else None),
    ("达到目标星级的概率", 12, lambda r: r.now.p_text if r.now else "尚未测算"),
    ("考核日得分中位数", 12, lambda r: r.now.p50 if r.now else None),
    ("逾期", 7, lambda r: r.overdue),
    ("红", 6, lambda r: r.counts.red),
    ("黄", 6, lambda r: r.counts.yellow),
    ("蓝", 6, lambda r: r.counts.blue),
    ("完成", 6, lambda r: r.counts.done),
    ("合计", 6, lambda r: r.counts.total),
    (f"得分变化（较{TREND_DAYS}天前）", 14, lambda r: r.trend.current_text if r.trend else "无可比测算"),
    (f"概率变化（较{TREND_DAYS}天前）", 14, lambda r: r.trend.p_text if r.trend else "无可比测算"),
    ("测算数据截至", 12, lambda r: r.now.as_of if r.now else None),
    ("对比测算数据截至", 14, lambda r: r.trend.since.as_of if r.trend else None),
]


def title_line(today: date) -> str:
    return (
        f"各地区新型智慧城市行动计划对比：三色状态与逾期按 {cn_date(today)} 计算；"
        "得分、星级与概率据各计划最近一次星级测算（数据截至日期见各行）；"
        f"变化：与数据截至 {cn_date(today - timedelta(days=TREND_DAYS))} 或更早的最近一次测算相比。"
    )


def province_xlsx(rows: list[AreaRow], today: date) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "全省对比"
    ws.cell(1, 1, title_line(today)).font = HEADER_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.cell(1, 1).alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[1].height = 45
    for col, (header, width, _) in enumerate(COLUMNS, 1):
        cell = ws.cell(2, col, header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(col)].width = width
    for r, row in enumerate(rows, 3):
        for col, (_, _, value) in enumerate(COLUMNS, 1):
            cell = ws.cell(r, col, value(row))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "C3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
