"""Writing a 自评 pack (workflows.selfassess.Pack) as one .zip: an index workbook
(自评总表, 里程碑, 说明) and the approved evidence under one folder per standard
indicator, e.g. 佐证材料/09 市政管网管线智能化监测管理率/<milestone>/<file>.

Names are sanitised (no control, bidi or zero-width characters, no separators or
reserved characters, no ".." or leading dots, bounded length), every entry name is
checked to stay inside the archive, the same file is written once per folder, and
Chinese names are kept (zipfile marks non-ASCII names as UTF-8). The archive is
written to a file object (a temporary file in the route), one evidence file at a
time; files missing on disk are listed in 说明, never an error.
"""

from __future__ import annotations

import io
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from app.dates import cn_date, to_local
from app.stars.present import number_text, star_text, value_text
from workflows.selfassess import Pack

EVIDENCE_ROOT = "佐证材料"
INDEX_NAME = "自评材料索引.xlsx"
MAX_NAME = 80
RESERVED = re.compile(r'[<>:"/\\|?*]')
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}


def clean_name(name: str, fallback: str = "附件") -> str:
    """One path component safe on every system: control (Cc), format (Cf: bidi
    overrides, zero-width) and reserved characters removed, separators replaced,
    whitespace collapsed, no leading/trailing dots or spaces, at most MAX_NAME
    characters (the extension kept), never empty, "." or ".."."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"))
    name = RESERVED.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name or set(name) <= {"_", ".", " "}:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = name, ""
    if stem.split(".")[0].upper() in WINDOWS_DEVICES:
        stem = "_" + stem
    if len(stem) + len(ext) + 1 > MAX_NAME:
        stem = stem[: MAX_NAME - len(ext) - 1].rstrip(" .") or fallback
    return f"{stem}.{ext}" if ext else stem


def safe_arcname(*parts: str) -> str:
    """The archive path of sanitised components; raises ValueError if it could leave the archive."""
    path = "/".join(parts)
    pure = PurePosixPath(path)
    if (
        pure.is_absolute()
        or any(p in ("", ".", "..") for p in path.split("/"))
        or "\\" in path
        or "\0" in path
    ):
        raise ValueError(f"unsafe archive path: {path!r}")
    return path


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name (2)` … when the folder has it already."""
    if name not in taken:
        taken.add(name)
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot and stem else (name, "")
    k = 2
    while f"{stem} ({k}){ext}" in taken:
        k += 1
    taken.add(f"{stem} ({k}){ext}")
    return f"{stem} ({k}){ext}"


@dataclass
class Layout:
    """Where each file goes: {(number, milestone id): [(evidence file, archive path)]}."""

    files: dict = field(default_factory=dict)
    folders: dict = field(default_factory=dict)  # number -> folder path
    milestone_folders: dict = field(default_factory=dict)  # (number, milestone id) -> folder path


def layout(pack: Pack) -> Layout:
    """Decide every archive path before writing (the index lists the same paths)."""
    out = Layout()
    for row in pack.rows:
        folder = safe_arcname(EVIDENCE_ROOT, clean_name(f"{int(row.number):02d} {row.name}", f"{row.number}"))
        out.folders[row.number] = folder
        sub_taken: set[str] = set()
        for m in row.milestones:
            sub = clean_name(m.title, m.key)
            if sub in sub_taken:
                sub = clean_name(f"{m.title}（{m.key}）", m.key)
            sub = _unique(sub, sub_taken)
            mfolder = safe_arcname(folder, sub)
            out.milestone_folders[(row.number, m.id)] = mfolder
            names: set[str] = set()
            seen: set[str] = set()
            placed = []
            for ev in m.evidence:
                if ev.sha256 in seen:  # the same file uploaded twice: once per folder
                    continue
                seen.add(ev.sha256)
                placed.append((ev, safe_arcname(mfolder, _unique(clean_name(ev.name), names))))
            out.files[(row.number, m.id)] = placed
    return out


def _state_text(m) -> str:
    if m.state == "done":
        return f"已完成（{cn_date(m.finished)}）" if m.finished else "已完成"
    return f"{m.state_label}（{m.percent}%）"


def _declared_text(m) -> str:
    return "；".join(value_text(v) for v in m.declared) or "未声明"


def _iso(moment) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _source_cell(row) -> str:
    text = row.source
    who = []
    if row.entered_by:
        who.append(f"录入：{row.entered_by}")
    if row.approved_by:
        who.append(f"审核：{row.approved_by} {_iso(row.approved_at)}".rstrip())
    if who:
        text += "（" + "；".join(who) + "）"
    if row.note:
        text += f"；说明：{row.note}"
    return text


def workbook(pack: Pack, places: Layout, missing: list[dict], generated_by: str, generated_at) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "自评总表"
    head = ["序号", "类别", "指标", "数值", "单位", "数据日期", "来源", "得分", "满分", "里程碑", "佐证材料"]
    ws.append(head)
    missing_ids = {m["evidence_id"] for m in missing}
    for row in pack.rows:
        paths = [
            p
            for m in row.milestones
            for ev, p in places.files.get((row.number, m.id), [])
            if ev.id not in missing_ids
        ]
        ws.append(
            [
                int(row.number),
                row.category,
                row.name + (" ★" if row.star else ""),
                row.value_text,
                row.unit or "",
                row.data_date.isoformat() if row.data_date else "无数值",
                _source_cell(row),
                row.points,
                row.max_points,
                "\n".join(f"{m.title}（{_state_text(m)}）" for m in row.milestones) or "无关联里程碑",
                "\n".join(paths) or "无",
            ]
        )
    ws.append([])
    ws.append(
        [
            "合计",
            "",
            f"总分 {number_text(pack.total)} 分，{pack.stars} 星",
            "",
            "",
            "",
            "",
            pack.total,
            pack.max_total,
        ]
    )
    _style(ws, [6, 12, 28, 16, 8, 12, 40, 8, 8, 40, 60])

    ms = wb.create_sheet("里程碑")
    ms.append(
        ["标准序号", "标准指标", "计划指标", "里程碑", "所属节点", "牵头部门", "计划完成日期",
         f"状态（截至 {cn_date(pack.as_of)}）", "完成日期", "声明交付值", "已审核佐证材料"]
    )  # fmt: skip
    for row in pack.rows:
        for m in row.milestones:
            placed = places.files.get((row.number, m.id), [])
            ms.append(
                [
                    int(row.number),
                    row.name,
                    "、".join(m.indicators),
                    m.title,
                    m.node,
                    m.department,
                    m.due.isoformat(),
                    _state_text(m),
                    m.finished.isoformat() if m.finished else "",
                    _declared_text(m),
                    "\n".join(p + ("（文件缺失）" if ev.id in missing_ids else "") for ev, p in placed)
                    or "无",
                ]
            )
    _style(ms, [8, 24, 24, 32, 20, 18, 12, 18, 12, 16, 60])

    notes = wb.create_sheet("说明")
    for line in explanation(pack, missing, generated_by, generated_at):
        notes.append(line)
    _style(notes, [18, 100])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def explanation(pack: Pack, missing: list[dict], generated_by: str, generated_at) -> list[list]:
    valued = sum(1 for r in pack.rows if r.value is not None)
    lines = [
        ["材料", pack.title],
        ["计划", f"{pack.plan_title}（{pack.plan_code}）"],
        ["区域", pack.region],
        ["评价标准", f"{pack.standard_title}（{pack.standard_code}）"],
        ["材料类型", pack.kind_label],
        ["数据截至", pack.as_of.isoformat()],
        ["总分", f"{number_text(pack.total)} 分（满分 {number_text(pack.max_total)} 分）"],
        ["星级", f"{pack.stars} 星 {star_text(pack.stars)}"],
        ["目标", f"{pack.target_stars or '—'} 星，考核日 {cn_date(pack.target_date)}"],
        ["有数值的指标", f"{valued} / {len(pack.rows)} 项；无数值的指标按 0 分计"],
        ["星级测算页", run_text(pack)],
        ["数据依据",
         "每项标准指标取截至数据截至日已审核通过、且在该日结束前审核的最新数值：来自关联该标准指标的计划指标"
         "（复合指标取关联的分项），或统筹部门的“标准直填”；同一标准指标有多个来源时取得分较高者。"
         "得分按评价标准逐项计算，与星级测算页使用相同的计算。里程碑的声明交付值只用于预测，不计入当前得分。"],
        ["里程碑",
         "关联到为该标准指标提供数值的计划指标的里程碑；"
         "状态为截至数据截至日的状态（以审核通过的牵头汇报为准）。"],
        ["佐证材料",
         "仅收录截至数据截至日已审核通过的进展汇报的附件（含牵头与配合部门的汇报）；草稿、待审核、已退回的汇报的附件不收录。"
         "同一文件在同一文件夹中只收录一次；文件名已去除不安全字符。"],
        ["指标数值佐证", "本系统的指标数值不附文件，数值的来源与说明见“自评总表”的“来源”列。"],
        ["生成", f"{generated_by}，系统时间 {_iso(generated_at)}"],
    ]  # fmt: skip
    if missing:
        lines.append(["缺失的文件", f"{len(missing)} 个文件在服务器上找不到，未收入本材料："])
        lines += [["", f"{m['path']}（原文件名：{m['name']}，{m['reason']}）"] for m in missing]
    else:
        lines.append(["缺失的文件", "无"])
    return lines


def run_text(pack: Pack) -> str:
    run = pack.run
    if run is None:
        return f"没有 {cn_date(pack.as_of)} 的已存测算结果；本材料按同一计算得出。"
    day, when, total = pack.as_of.isoformat(), _iso(run["computed_at"]), number_text(run["total"])
    if run["agrees"]:
        return f"与 {day} 的星级测算结果（系统时间 {when} 测算）一致：{total} 分，{run['stars']} 星。"
    return (
        f"与 {day} 的星级测算结果（系统时间 {when} 测算：{total} 分）不一致，"
        f"测算后又有数据审核通过（第 {'、'.join(run['differs']) or '—'} 项）；本材料按最新数据，请重新测算。"
    )


def _style(ws, widths) -> None:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def write_zip(pack: Pack, out, storage: Path, generated_by: str, generated_at) -> list[dict]:
    """Write the pack to the binary file object `out`; returns the files missing on disk."""
    places = layout(pack)
    missing = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for (_number, _mid), placed in places.files.items():
            for ev, path in placed:
                source = storage / ev.stored_name
                if Path(ev.stored_name).name != ev.stored_name or not source.is_file():
                    missing.append(
                        {"evidence_id": ev.id, "path": path, "name": ev.name, "reason": "文件不存在"}
                    )
                    continue
                try:
                    with open(source, "rb") as src, zf.open(path, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(src, dst, 1024 * 1024)
                except OSError as exc:
                    missing.append(
                        {
                            "evidence_id": ev.id,
                            "path": path,
                            "name": ev.name,
                            "reason": f"无法读取：{exc.strerror}",
                        }
                    )
        zf.writestr(safe_arcname(INDEX_NAME), workbook(pack, places, missing, generated_by, generated_at))
    return missing
