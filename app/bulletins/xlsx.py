"""A bulletin as an Excel workbook (openpyxl), from its stored content only: sheets 概况
(forecast headline, counts, changes), 红黄事项 and 考评 — the numbers of the page."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from app.bulletins.present import p_change, prob, share, signed
from app.dates import cn_date, cn_datetime
from app.models import Bulletin

HEAD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="F3F4F6")
WRAP = Alignment(wrap_text=True, vertical="top")
FILLS = {"red": PatternFill("solid", fgColor="FEE2E2"), "yellow": PatternFill("solid", fgColor="FEF3C7")}


def _header(ws, titles: list[str], widths: list[int]) -> None:
    ws.append(titles)
    for i, width in enumerate(widths, start=1):
        cell = ws.cell(row=ws.max_row, column=i)
        cell.font, cell.fill = HEAD, HEAD_FILL
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = ws.cell(row=ws.max_row + 1, column=1)


def _overview(ws, bulletin: Bulletin, data: dict) -> None:
    ws.title = "概况"
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 60
    plan = data["plan"]
    rows = [
        ("通报", f"{plan['title']} {bulletin.kind_label}"),
        ("区域", plan["region"]),
        ("数据日期", cn_date(data["as_of"])),
        ("所属周（周一）", cn_date(data["week"])),
        ("发布时间（北京时间）", cn_datetime(bulletin.issued_at)),
        ("发布人", bulletin.issued_by.display_name if bulletin.issued_by else "系统（每周定时）"),
    ]
    fc = data.get("forecast")
    if fc:
        rows += [
            ("星级测算依据", f"据 {cn_date(fc['as_of'])} 测算（{fc['samples']} 次模拟）"),
            (
                f"到 {cn_date(fc['target_date'])} 达到 {fc['target_stars']} 星的概率",
                prob(fc["p_target"]),
            ),
            ("得分中位数", fc["p50"]),
            ("得分上限", f"{fc['ceiling_total']} 分（{fc['ceiling_stars']} 星）"),
        ]
    else:
        rows.append(("星级测算", "尚无存储的星级测算结果"))
    counts = data["counts"]
    rows += [
        ("里程碑总数", counts["total"]),
        ("红", counts["red"]),
        ("黄", counts["yellow"]),
        ("蓝", counts["blue"]),
        ("完成", counts["done"]),
    ]
    ch = data["changes"]
    prev = ch.get("previous")
    rows.append(("对比上期", f"{cn_date(prev['as_of'])} 通报" if prev else "此前各周没有发布过通报"))
    if prev:
        rows += [
            ("新增红色", len(ch["newly_red"])),
            ("红色解除", len(ch["no_longer_red"])),
            ("新完成", len(ch["newly_done"])),
            ("其他颜色变化", len(ch["colour_changes"])),
        ]
    f = ch.get("forecast")
    if f:
        rows += [
            (
                f"对比 {cn_date(f['before_as_of'])} 测算：达标概率",
                f"{prob(f['p_target_before'])} → "
                f"{prob(f['p_target_now'])}（{p_change(f['p_target_before'], f['p_target_now'])}）",
            ),
            (
                "得分中位数变化",
                f"{f['p50_before']} → {f['p50_now']}（{_diff(f['p50_before'], f['p50_now'])}）",
            ),
        ]
    for label, value in rows:
        ws.append([label, value])
        ws.cell(row=ws.max_row, column=1).font = HEAD
    if prev:
        ws.append([])
        ws.append(["变化明细", "里程碑", "牵头部门", "颜色变化"])
        for c in range(1, 5):
            ws.cell(row=ws.max_row, column=c).font = HEAD
        ws.column_dimensions["C"].width = 24
        ws.column_dimensions["D"].width = 14
        for label, key in (
            ("新增红色", "newly_red"),
            ("红色解除", "no_longer_red"),
            ("新完成", "newly_done"),
            ("其他颜色变化", "colour_changes"),
        ):
            for e in ch[key]:
                ws.append([label, e["title"], e["department"], f"{e['from_label']} → {e['to_label']}"])


def _diff(before, now) -> str:
    if before is None or now is None:
        return "—"
    return signed(now - before, 1, " 分")


def _items(ws, data: dict) -> None:
    _header(
        ws,
        [
            "颜色",
            "里程碑",
            "所属任务",
            "牵头部门",
            "期限",
            "原定期限",
            "逾期天数",
            "进度",
            "原因",
            "风险分值",
        ],
        [6, 40, 24, 22, 16, 16, 10, 8, 50, 10],
    )
    for item in data["items"]:
        ws.append(
            [
                item["label"],
                item["title"],
                item["node"],
                item["department"],
                cn_date(item["due"]),
                cn_date(item["baseline_due"]),
                item["days_late"],
                f"{item['percent']}%",
                "；".join(item["reasons"]),
                item["points_at_stake"],
            ]
        )
        ws.cell(row=ws.max_row, column=1).fill = FILLS.get(item["colour"], HEAD_FILL)
        for c in (2, 9):
            ws.cell(row=ws.max_row, column=c).alignment = WRAP


ASSESSMENT_COLUMNS = [
    ("牵头部门", 24),
    ("已到期", 8),
    ("按期完成率", 16),
    ("按原期限完成率", 16),
    ("获延期", 8),
    ("逾期未完成", 10),
    ("按时汇报率", 16),
    ("督办按时答复率", 16),
    ("风险分值", 10),
    ("红", 6),
    ("黄", 6),
    ("蓝", 6),
    ("完成", 6),
]


def assessment_line(r: dict) -> list:
    return [
        r["due"],
        share(r["on_time"], r["due"]),
        share(r["on_time_baseline"], r["due_baseline"]),
        r["extended"],
        r["overdue"],
        share(r["reports_on_time"], r["due"]),
        share(r["notices_on_time"], r["notices_due"]),
        r["points_at_stake"],
        r["red"],
        r["yellow"],
        r["blue"],
        r["done"],
    ]


def _assessment(ws, data: dict) -> None:
    _header(ws, [c for c, _ in ASSESSMENT_COLUMNS], [w for _, w in ASSESSMENT_COLUMNS])
    table = data["assessment"]
    for r in table["rows"]:
        ws.append([r["department"], *assessment_line(r)])
    ws.append(["合计", *assessment_line(table["totals"])])
    for c in range(1, len(ASSESSMENT_COLUMNS) + 1):
        ws.cell(row=ws.max_row, column=c).font = HEAD
    ws.append([])
    for text in table["definitions"].values():
        ws.append([text])


def workbook_bytes(bulletin: Bulletin) -> io.BytesIO:
    data = bulletin.data
    wb = Workbook()
    _overview(wb.active, bulletin, data)
    _items(wb.create_sheet("红黄事项"), data)
    _assessment(wb.create_sheet("考评"), data)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer
