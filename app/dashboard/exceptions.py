"""The exceptions a leader reads first: the red milestones (then the yellow ones) with
who leads them, how late they are, the latest report's words, what they hold up and the
standard points that ride on them. Shapes PlanStatus rows for the page; decides nothing."""

from __future__ import annotations

from dataclasses import dataclass

from app.dates import local_date
from app.engines import status as rules
from app.status import PlanStatus, Row


@dataclass
class Item:
    row: Row
    report_words: str | None
    report_date: object  # date of the latest report (submitted, else reviewed)
    points_text: list[str]  # ["标准第9项 +6分", ...]

    @property
    def milestone(self):
        return self.row.milestone


def points_text(points: list[dict]) -> list[str]:
    return [f"标准第{p['number']}项 +{p['points']}分" for p in points]


def _shape(row: Row) -> Item:
    report = row.latest_report
    when = None
    if report is not None:
        stamp = report.submitted_at or report.reviewed_at
        when = local_date(stamp) if stamp else None
    return Item(row, report.text if report else None, when, points_text(row.points))


def red(ps: PlanStatus) -> list[Item]:
    """PlanStatus.red_list(): the longest overdue first, then the most points at stake."""
    return [_shape(r) for r in ps.red_list()]


def yellow(ps: PlanStatus) -> list[Item]:
    return [_shape(r) for r in ps.select(rules.YELLOW)]


def shape(rows: list[Row]) -> list[Item]:
    return [_shape(r) for r in rows]
