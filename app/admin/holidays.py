"""Admin: the holiday calendar (days off and 调休上班 weekend workdays) that reminders skip."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import extract, select
from sqlalchemy.exc import IntegrityError

from app import audit, clock
from app.admin import bp
from app.admin.forms import HolidayBulkForm, HolidayDeleteForm, HolidayForm
from app.extensions import db
from app.models import Holiday
from app.params import form_id, int_arg
from app.permissions import require

WORKDAY_WORDS = ("调休上班", "上班")
LINE_RE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})\s+(.+)$")
WEEKDAYS = "一二三四五六日"


def _days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def holidays_2021() -> list[tuple[date, str, bool]]:
    """Mainland China's 2021 arrangement (国务院办公厅 国办发明电〔2020〕27号): (day, name, workday)."""
    off = [
        ("元旦", "2021-01-01", "2021-01-03"),
        ("春节", "2021-02-11", "2021-02-17"),
        ("清明节", "2021-04-03", "2021-04-05"),
        ("劳动节", "2021-05-01", "2021-05-05"),
        ("端午节", "2021-06-12", "2021-06-14"),
        ("中秋节", "2021-09-19", "2021-09-21"),
        ("国庆节", "2021-10-01", "2021-10-07"),
    ]
    worked = [
        ("春节调休上班", "2021-02-07"),
        ("春节调休上班", "2021-02-20"),
        ("劳动节调休上班", "2021-04-25"),
        ("劳动节调休上班", "2021-05-08"),
        ("中秋节调休上班", "2021-09-18"),
        ("国庆节调休上班", "2021-09-26"),
        ("国庆节调休上班", "2021-10-09"),
    ]
    rows = [(d, name, False) for name, first, last in off for d in _days(first, last)]
    rows += [(date.fromisoformat(d), name, True) for name, d in worked]
    return sorted(rows)


def seed_holidays_2021() -> int:
    """Add the 2021 calendar to the session (days already listed are left alone); the caller
    commits. Returns how many days were added, so running it twice adds nothing."""
    rows = holidays_2021()
    have = set(db.session.scalars(select(Holiday.day).where(Holiday.day.in_([d for d, _, _ in rows]))))
    added = 0
    for day, name, workday in rows:
        if day not in have:
            db.session.add(Holiday(day=day, name=name, workday=workday))
            added += 1
    return added


class BulkError(ValueError):
    pass


@dataclass
class HolidayCalendar:
    """Stands for the whole calendar in the audit trail of a bulk import."""

    id: None = None


def parse_bulk(text: str) -> list[tuple[date, str, bool]]:
    """Parse pasted lines "2021-10-01 国庆节" / "2021-09-26 调休上班"; raise BulkError naming the
    first bad line. A name ending in 上班 marks a weekend workday, which must fall on a weekend."""
    rows: list[tuple[date, str, bool]] = []
    seen: dict[date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().replace("\u3000", " ")
        if not line or line.startswith("#"):
            continue
        match = LINE_RE.match(line)
        if match is None:
            raise BulkError(f"第 {number} 行“{line}”格式不对，应为“2021-10-01 国庆节”（日期、空格、名称）。")
        try:
            day = date.fromisoformat(_pad(match.group(1)))
        except ValueError:
            raise BulkError(f"第 {number} 行“{line}”的日期不存在。") from None
        name = " ".join(match.group(2).split())
        if len(name) > 64:
            raise BulkError(f"第 {number} 行的名称过长（最多 64 个字）。")
        workday = name.endswith(WORKDAY_WORDS)
        if workday and day.weekday() < 5:
            raise BulkError(
                f"第 {number} 行“{line}”：{day.isoformat()} 是星期{WEEKDAYS[day.weekday()]}，"
                "调休上班日应是周六或周日。"
            )
        if day in seen:
            raise BulkError(f"第 {number} 行“{line}”与第 {seen[day]} 行日期重复。")
        seen[day] = number
        rows.append((day, name, workday))
    if not rows:
        raise BulkError("没有可导入的行。")
    return rows


def _pad(raw: str) -> str:
    y, m, d = raw.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def _year() -> int:
    return int_arg("year", low=2000, high=2100, default=clock.today().year, label="年份")


def _page(year: int, form=None, bulk=None, status: int = 200):
    rows = db.session.scalars(
        select(Holiday).where(extract("year", Holiday.day) == year).order_by(Holiday.day)
    ).all()
    years = sorted({d.year for d in db.session.scalars(select(Holiday.day))} | {year})
    return (
        render_template(
            "admin/holidays.html",
            year=year,
            years=years,
            rows=rows,
            weekdays=WEEKDAYS,
            form=form or HolidayForm(),
            bulk=bulk or HolidayBulkForm(),
            delete_form=HolidayDeleteForm(),
        ),
        status,
    )


@bp.route("/holidays")
@require("admin")
def holidays():
    return _page(_year())


@bp.route("/holidays/add", methods=["POST"])
@require("admin")
def add_holiday():
    form = HolidayForm()
    if not form.validate_on_submit():
        return _page(form.day.data.year if form.day.data else _year(), form=form, status=400)
    day, workday = form.day.data, form.kind.data == "workday"
    if workday and day.weekday() < 5:
        flash(f"{day.isoformat()} 是星期{WEEKDAYS[day.weekday()]}，调休上班日应是周六或周日。", "error")
        return _page(day.year, form=form, status=400)
    holiday = Holiday(day=day, name=form.name.data.strip(), workday=workday)
    db.session.add(holiday)
    try:
        audit.record(
            current_user,
            "holiday.create",
            holiday,
            f"添加{'调休上班日' if workday else '节假日'} {day.isoformat()} {holiday.name}",
            after={"day": day.isoformat(), "name": holiday.name, "workday": workday},
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        flash(f"{day.isoformat()} 已在日历中，请先删除原有条目。", "error")
        return _page(day.year, form=form, status=409)
    flash("已添加。", "success")
    return redirect(url_for("admin.holidays", year=day.year))


@bp.route("/holidays/delete", methods=["POST"])
@require("admin")
def delete_holiday():
    form = HolidayDeleteForm()
    holiday_id = form_id(form.holiday_id.data) if form.validate_on_submit() else None
    holiday = db.session.get(Holiday, holiday_id) if holiday_id else None
    if holiday is None:
        flash("该日期已不在日历中（可能已被他人删除）。", "error")
        return redirect(url_for("admin.holidays", year=_year()))
    year = holiday.day.year
    audit.record(
        current_user,
        "holiday.delete",
        holiday,
        f"删除 {holiday.day.isoformat()} {holiday.name}",
        before={"day": holiday.day.isoformat(), "name": holiday.name, "workday": holiday.workday},
    )
    db.session.delete(holiday)
    db.session.commit()
    flash("已删除。", "success")
    return redirect(url_for("admin.holidays", year=year))


@bp.route("/holidays/bulk", methods=["POST"])
@require("admin")
def bulk_holidays():
    """All or nothing: every line parses and is written, or nothing is."""
    bulk = HolidayBulkForm()
    if not bulk.validate_on_submit():
        return _page(_year(), bulk=bulk, status=400)
    try:
        rows = parse_bulk(bulk.text.data)
    except BulkError as exc:
        flash(f"未导入任何条目：{exc}", "error")
        return _page(_year(), bulk=bulk, status=400)
    existing = {
        h.day: h for h in db.session.scalars(select(Holiday).where(Holiday.day.in_([r[0] for r in rows])))
    }
    added = changed = 0
    for day, name, workday in rows:
        holiday = existing.get(day)
        if holiday is None:
            db.session.add(Holiday(day=day, name=name, workday=workday))
            added += 1
        elif (holiday.name, holiday.workday) != (name, workday):
            holiday.name, holiday.workday = name, workday
            changed += 1
    try:
        audit.record(
            current_user,
            "holiday.bulk",
            HolidayCalendar(),
            f"批量导入节假日：新增 {added} 条，更新 {changed} 条",
            after={"lines": [[d.isoformat(), n, w] for d, n, w in rows]},
        )
        db.session.commit()
    except IntegrityError:  # someone added one of these days meanwhile
        db.session.rollback()
        flash("未导入任何条目：其中有日期刚被他人添加，请刷新后重试。", "error")
        return _page(_year(), bulk=bulk, status=409)
    flash(f"已导入：新增 {added} 条，更新 {changed} 条。", "success")
    return redirect(url_for("admin.holidays", year=rows[0][0].year))
