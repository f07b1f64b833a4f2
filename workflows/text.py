"""Reminder message text in Chinese: one item, a daily digest, and chat markdown.

Pure functions over small value objects (no Flask, no database), so the wording
is tested on its own. "today" is passed in: the sender reads it from the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.dates import cn_date
from app.engines.schedule import days_to_due, is_overdue

DIGEST_SUBJECT = "【星途】今日待办提醒（{n} 项）"
ESCALATION_KINDS = {"escalate_overdue", "escalate_returned", "escalate_notice", "escalate_unacknowledged"}
ESCALATION_TAG = "【督办升级】"
WECOM_MAX_BYTES = 4096  # WeCom refuses markdown content longer than this (UTF-8 bytes)
# Every chat message names the system: DingTalk robots guarded by a keyword accept it with "星途".
MARKDOWN_FOOTER = "> 来自 星途 智慧城市行动计划跟踪系统"


@dataclass(frozen=True)
class Item:
    """One reminder as the reader sees it."""

    milestone_id: int
    title: str
    plan_title: str
    department: str  # the lead department
    kind: str
    due_date: date
    # escalate_returned: day returned; escalate_notice: reply due; escalate_unacknowledged: day issued
    since: date | None = None
    colour: str = ""  # the milestone's 三色 label when sent (红/黄/蓝/完成), the pages' rule
    why: str = ""  # its reasons

    @property
    def colour_tag(self) -> str:
        return f"〔{self.colour}〕" if self.colour in ("红", "黄") else ""

    @property
    def key(self) -> tuple:
        return (self.milestone_id, self.kind, self.due_date, self.since)

    @property
    def path(self) -> str:
        return f"/milestones/{self.milestone_id}"


@dataclass(frozen=True)
class Message:
    subject: str  # mail subject, chat title, in-app text
    body: str  # plain text mail body
    markdown: str  # chat robot markdown
    link: str  # in-app link (a path)


def due_phrase(due: date, today: date) -> str:
    days = days_to_due(due, today)
    if is_overdue(due, today):
        return f"已逾期 {-days} 天（到期日 {cn_date(due)}）"
    if days == 0:
        return f"今天（{cn_date(due)}）到期"
    return f"将于 {cn_date(due)} 到期（还有 {days} 天）"


def short_phrase(item: Item, today: date) -> str:
    """A few words for a digest line or the in-app digest."""
    days = days_to_due(item.due_date, today)
    if item.kind == "escalate_returned":
        return "汇报被退回后未重新提交"
    if item.kind == "escalate_notice":
        return f"督办单应于 {cn_date(item.since)} 前答复"
    if item.kind == "escalate_unacknowledged":
        return f"督办单于 {cn_date(item.since)} 交办，超过一个工作日未签收"
    if is_overdue(item.due_date, today):
        return f"已逾期 {-days} 天"
    return "今天到期" if days == 0 else f"还有 {days} 天到期"


def headline(item: Item, today: date) -> str:
    if item.kind == "escalate_overdue":
        days = -days_to_due(item.due_date, today)
        return (
            f"【督办升级】{item.title} 已逾期 {days} 天（到期日 {cn_date(item.due_date)}），"
            f"牵头部门：{item.department}"
        )
    if item.kind == "escalate_returned":
        waited = (today - item.since).days if item.since else 0
        return (
            f"【督办升级】{item.title} 的进展汇报于 {cn_date(item.since)} 被退回，"
            f"已 {waited} 天未重新提交（牵头部门：{item.department}）"
        )
    if item.kind == "escalate_notice":
        return (
            f"【督办升级】{item.title} 的督办单应于 {cn_date(item.since)} 前答复，"
            f"至今未答复（{item.department}）"
        )
    if item.kind == "escalate_unacknowledged":
        return (
            f"【督办升级】{item.title} 的督办单于 {cn_date(item.since)} 交办，"
            f"超过一个工作日仍未签收（{item.department}）"
        )
    return f"【星途提醒】{item.title} {due_phrase(item.due_date, today)}"


def _url(path: str, base_url: str) -> str:
    return f"{base_url}{path}" if base_url else path


def _details(item: Item) -> list[tuple[str, str]]:
    rows = [
        ("计划", item.plan_title),
        ("里程碑", item.title),
        ("牵头部门", item.department),
        ("到期日", cn_date(item.due_date)),
    ]
    if item.colour:
        rows.append(("三色状态", f"{item.colour}{'（' + item.why + '）' if item.why else ''}"))
    return rows


def single(item: Item, today: date, greeting: str, base_url: str = "") -> Message:
    """One message about one reminder."""
    subject = headline(item, today)
    lines = [f"{greeting}，您好：", "", subject, ""]
    lines += [f"{label}：{value}" for label, value in _details(item)]
    lines += [f"查看：{_url(item.path, base_url)}", "", "——星途 智慧城市行动计划跟踪系统"]
    md = [f"#### {subject}", ""]
    md += [f"- {label}：{value}" for label, value in _details(item)]
    md += ["", f"[查看详情]({_url(item.path, base_url)})", "", MARKDOWN_FOOTER]
    return Message(subject=subject, body="\n".join(lines), markdown="\n".join(md), link=item.path)


def _tags(item: Item) -> str:
    return (ESCALATION_TAG if item.kind in ESCALATION_KINDS else "") + item.colour_tag


def ordered(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (i.kind not in ESCALATION_KINDS, i.due_date, i.title, i.milestone_id))


def digest(items: list[Item], today: date, greeting: str, base_url: str = "", link: str = "/my") -> Message:
    """One message listing every item (a single item reads as a single message)."""
    if len(items) == 1:
        return single(items[0], today, greeting, base_url)
    items = ordered(items)
    subject = DIGEST_SUBJECT.format(n=len(items))
    lines = [f"{greeting}，您好：", "", f"截至 {cn_date(today)}，您有 {len(items)} 项待办提醒：", ""]
    md = [f"#### {subject}", ""]
    for n, item in enumerate(items, 1):
        tag = _tags(item)
        lines.append(
            f"{n}. {tag}{item.plan_title} / {item.title}（到期日 {cn_date(item.due_date)}，"
            f"{short_phrase(item, today)}）"
        )
        lines.append(f"   {_url(item.path, base_url)}")
        md.append(
            f"{n}. {tag}[{item.title}]({_url(item.path, base_url)})：{item.plan_title}，"
            f"到期日 {cn_date(item.due_date)}，{short_phrase(item, today)}"
        )
    lines += ["", "——星途 智慧城市行动计划跟踪系统"]
    md += ["", MARKDOWN_FOOTER]
    return Message(subject=subject, body="\n".join(lines), markdown="\n".join(md), link=link)


def in_app_text(items: list[Item], today: date) -> str:
    """The notification line: the headline, or the digest subject with the items."""
    if len(items) == 1:
        return headline(items[0], today)
    parts = [f"{_tags(i)}{i.title}（{short_phrase(i, today)}）" for i in ordered(items)]
    return DIGEST_SUBJECT.format(n=len(items)) + "：" + "；".join(parts)


def fit_bytes(text: str, limit: int, tail: str = "\n\n……（内容过长，其余请登录系统查看）") -> str:
    """Cut text at a line boundary so that its UTF-8 form is at most `limit` bytes."""
    if len(text.encode()) <= limit:
        return text
    budget = limit - len(tail.encode())
    kept, used = [], 0
    for line in text.split("\n"):
        size = len(line.encode()) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "\n".join(kept) + tail


def webhook_payload(kind: str, title: str, markdown: str) -> dict:
    """The robot's markdown message: DingTalk {title, text}, WeCom {content}."""
    if kind == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": fit_bytes(markdown, WECOM_MAX_BYTES)}}
    raise ValueError(f"unknown webhook kind {kind!r}")
