"""三色 status: one rule set for every page, reminder and export (pure: no Flask, no database).

Computed, never typed. For a milestone on `today`:
- 完成 (done): done is done.
- 红 (red): overdue (due before today), or forecast to finish after its due date.
- 黄 (yellow): due within `soon_days` days; behind 序时进度 (reported percent more than
  `behind_points` points below the share of planned time elapsed since the planned
  start); a returned report not resubmitted; or an unanswered 督办.
- 蓝 (blue): the rest in progress (not started yet counts: it is open work on the plan).

For a 督办 (notice), by its reply date: 红 past the reply date and not answered; 黄 reply
due within `soon_days` days and not answered, or sent back by the issuer; 蓝 answered
and awaiting the issuer's 复核, or not yet near its date; 完成 when 办结.

Every reason is a Chinese sentence a leader can read, in the order the rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from app.engines.schedule import elapsed_share

RED, YELLOW, BLUE, DONE = "red", "yellow", "blue", "done"
ORDER = (RED, YELLOW, BLUE, DONE)  # most urgent first
LABELS = {RED: "红", YELLOW: "黄", BLUE: "蓝", DONE: "完成"}
MEANINGS = {
    RED: "逾期或预测晚于期限",
    YELLOW: "临近期限、落后序时进度、退回未重报或督办未答复",
    BLUE: "正常推进",
    DONE: "已完成",
}


@dataclass(frozen=True)
class Thresholds:
    """A plan's rules (set on its reminder-policy page)."""

    soon_days: int = 7
    behind_points: int = 20


@dataclass(frozen=True)
class MilestoneFacts:
    due: date
    done: bool
    percent: int
    start: date  # planned start: schedule.planned_start
    forecast_finish: date | None = None  # the stored forecast's median finish
    returned: bool = False  # its report was returned and not resubmitted
    open_notices: int = 0  # 督办 not yet answered


@dataclass(frozen=True)
class Status:
    colour: str
    reasons: tuple[str, ...] = ()
    days_late: int = 0  # days past the due date (0 when not overdue)
    scheduled_percent: int | None = None  # 序时进度 on today, in percent (None when done)
    behind: bool = False
    soon: bool = False

    @property
    def label(self) -> str:
        return LABELS[self.colour]

    def as_dict(self) -> dict:
        return {
            "colour": self.colour,
            "label": self.label,
            "reasons": list(self.reasons),
            "days_late": self.days_late,
            "scheduled_percent": self.scheduled_percent,
        }


def _md(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def milestone_status(f: MilestoneFacts, today: date, th: Thresholds = Thresholds()) -> Status:
    if f.done:
        return Status(DONE)
    scheduled = round(100 * elapsed_share(f.start, f.due, today))
    days_to_due = (f.due - today).days
    red, yellow = [], []
    if days_to_due < 0:
        red.append(f"逾期 {-days_to_due} 天")
    if f.forecast_finish is not None and f.forecast_finish > f.due:
        red.append(f"预测 {_md(f.forecast_finish)} 完成，晚于期限 {(f.forecast_finish - f.due).days} 天")
    soon = 0 <= days_to_due <= th.soon_days
    if soon:
        yellow.append("今天到期" if days_to_due == 0 else f"{days_to_due} 天后到期")
    behind = f.percent < scheduled - th.behind_points
    if behind:
        yellow.append(f"进度 {f.percent}%，落后序时进度 {scheduled}%")
    if f.returned:
        yellow.append("汇报被退回，尚未重新提交")
    if f.open_notices:
        yellow.append("督办未答复" if f.open_notices == 1 else f"{f.open_notices} 份督办未答复")
    colour = RED if red else YELLOW if yellow else BLUE
    return Status(
        colour,
        tuple(red + yellow),
        days_late=max(0, -days_to_due),
        scheduled_percent=scheduled,
        behind=behind,
        soon=soon,
    )


def notice_status(reply_due: date, today: date, state: str, th: Thresholds = Thresholds()) -> Status:
    """state: issued | acknowledged | answered | returned | closed (see app.models.notice)."""
    if state == "closed":
        return Status(DONE)
    if state == "answered":
        return Status(BLUE, ("已反馈，待复核",))
    days = (reply_due - today).days
    reasons = []
    if state == "returned":
        reasons.append("反馈被退回，需重新办理")
    if days < 0:
        return Status(RED, (f"超过答复期限 {-days} 天未答复", *reasons), days_late=-days)
    if days <= th.soon_days or reasons:
        soon = "今天到答复期限" if days == 0 else f"{days} 天后到答复期限"
        return Status(YELLOW, (*reasons, soon) if days <= th.soon_days else tuple(reasons), soon=True)
    return Status(BLUE)


@dataclass
class Counts:
    """Milestones by colour (a plain mapping for templates: counts.red, counts.total)."""

    red: int = 0
    yellow: int = 0
    blue: int = 0
    done: int = 0
    ids: dict = field(default_factory=lambda: {c: [] for c in ORDER})

    def add(self, colour: str, mid=None) -> None:
        setattr(self, colour, getattr(self, colour) + 1)
        if mid is not None:
            self.ids[colour].append(mid)

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.blue + self.done

    @property
    def open(self) -> int:
        return self.red + self.yellow + self.blue

    def as_dict(self) -> dict:
        return {c: getattr(self, c) for c in ORDER} | {"total": self.total}
