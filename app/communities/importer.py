"""A region's communities from a workbook: sheet 社区 with the columns 街道/镇, 社区名称,
户数 (header in row 1). Every error is named by sheet, row and column; one error and
nothing is written. A community whose name exists is updated (street, households); a
street not yet known becomes a 街道 / 镇 department of the region."""

from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.forms_base import has_control
from app.models import Community, Department
from app.models.community import STREET_KIND

SHEET = "社区"
COLUMNS = {"street": "街道/镇", "name": "社区名称", "households": "户数"}
MAX_ROWS = 5000


class ImportError_(ValueError):
    def __init__(self, messages: list[str]):
        super().__init__("；".join(messages))
        self.messages = messages


def _header_key(text) -> str:
    return str(text or "").replace(" ", "").replace("／", "/").strip()


def read_rows(data: bytes) -> list[dict]:
    """The rows of the workbook as {"row", "street", "name", "households"}; ImportError_ with
    every problem found."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportError_(["文件不是有效的 .xlsx 工作簿。"]) from None
    if SHEET not in wb.sheetnames:
        raise ImportError_([f"工作簿中没有名为“{SHEET}”的工作表（现有：{'、'.join(wb.sheetnames)}）。"])
    ws = wb[SHEET]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None) or ()
    found = {_header_key(h): i for i, h in enumerate(header)}
    errors, cols = [], {}
    for key, title in COLUMNS.items():
        if title not in found:
            errors.append(f"工作表“{SHEET}”第 1 行：缺少列“{title}”。")
        else:
            cols[key] = found[title]
    if errors:
        raise ImportError_(errors)
    out, seen = [], {}
    for r, values in enumerate(rows, start=2):
        if r - 1 > MAX_ROWS:
            raise ImportError_([f"工作表“{SHEET}”超过 {MAX_ROWS} 行上限。"])
        cell = {k: values[i] if i < len(values) else None for k, i in cols.items()}
        if all(v is None or str(v).strip() == "" for v in cell.values()):
            continue
        where = f"工作表“{SHEET}”第 {r} 行"
        row = {"row": r}
        for key in ("street", "name"):
            text = str(cell[key] if cell[key] is not None else "").strip()
            if not text:
                errors.append(f"{where}“{COLUMNS[key]}”列：不能为空。")
            elif has_control(text) or len(text) > 128:
                errors.append(f"{where}“{COLUMNS[key]}”列：含控制字符或超过 128 字。")
            row[key] = text
        raw = cell["households"]
        if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip().isdigit()):
            errors.append(f"{where}“{COLUMNS['households']}”列：“{'' if raw is None else raw}”应为正整数。")
        else:
            value = float(raw)
            if value != int(value) or not 1 <= value <= 1_000_000:
                errors.append(f"{where}“{COLUMNS['households']}”列：“{raw}”应为 1 到 1000000 之间的整数。")
            row["households"] = int(value)
        if row.get("name"):
            if row["name"] in seen:
                errors.append(
                    f"{where}“{COLUMNS['name']}”列：社区“{row['name']}”与第 {seen[row['name']]} 行重复。"
                )
            seen[row["name"]] = r
        out.append(row)
    if errors:
        raise ImportError_(errors)
    if not out:
        raise ImportError_([f"工作表“{SHEET}”没有数据行。"])
    return out


def apply(rows: list[dict], region_id: int, user) -> dict:
    """Write the rows (no commit): {"created", "updated", "streets"}."""
    streets = {
        d.name: d for d in db.session.scalars(select(Department).where(Department.region_id == region_id))
    }
    existing = {
        c.name: c for c in db.session.scalars(select(Community).where(Community.region_id == region_id))
    }
    counts = {"created": 0, "updated": 0, "streets": 0}
    errors = []
    for row in rows:
        street = streets.get(row["street"])
        if street is not None and street.kind != STREET_KIND:
            errors.append(
                f"工作表“{SHEET}”第 {row['row']} 行“{COLUMNS['street']}”列："
                f"“{row['street']}”是本区域的部门，不是街道 / 镇。"
            )
            continue
        if street is None:
            street = Department(region_id=region_id, name=row["street"], kind=STREET_KIND)
            db.session.add(street)
            streets[row["street"]] = street
            audit.record(
                user,
                "department.create",
                street,
                f"导入社区名单时新增街道 / 镇“{street.name}”",
                region_id=region_id,
            )
            counts["streets"] += 1
        c = existing.get(row["name"])
        if c is None:
            c = Community(region_id=region_id, name=row["name"], street=street, households=row["households"])
            db.session.add(c)
            audit.record(
                user,
                "community.create",
                c,
                f"导入社区“{c.name}”",
                after={"households": c.households, "street": street.name},
            )
            counts["created"] += 1
        elif c.street_id != street.id or c.households != row["households"]:
            before = {"street_id": c.street_id, "households": c.households}
            c.street, c.households = street, row["households"]
            db.session.flush()
            audit.record(
                user,
                "community.edit",
                c,
                f"导入更新社区“{c.name}”",
                before,
                {"street_id": c.street_id, "households": c.households},
            )
            counts["updated"] += 1
    if errors:
        raise ImportError_(errors)
    return counts


def template_xlsx(rows: list[tuple[str, str, int]]) -> bytes:
    """A workbook in the import's shape, filled with the region's communities (if any)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(COLUMNS.values()))
    for street, name, households in rows:
        ws.append([street, name, households])
        for cell in ws[ws.max_row][:2]:
            cell.data_type = "s"  # never a formula
    for col in "AB":
        ws.column_dimensions[col].width = 24
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
