"""Import a plan workbook through the web page: check the upload, keep it pending,
preview what the loader would change, apply it all or nothing.

The preview *is* the loader: the workbook is loaded in a transaction with the
loader's own compare-then-write rules (writer.py, prune.py), the audit rows it writes
are read as the list of changes and its PlanResult as the counts and the orphans,
and everything is rolled back. Apply loads again and commits, but only when the
file is the one previewed and the plan's fingerprint is unchanged since the preview.
"""

import hashlib
import io
import json
import re
import secrets
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.orm import aliased

from app import audit
from app.dates import cn_date
from app.extensions import db
from app.models import AuditEvent, Department, Dependency, Indicator, IndicatorValue, Milestone, PlanNode
from app.planio.checker import as_date
from app.planio.excel import check_xlsx
from app.planio.export import export_plan
from app.planio.loader import load_parsed
from app.planio.prune import MILESTONE_REFS
from app.planio.report import PlanResult
from app.planio.web_messages import message
from app.planio.writer import KIND_LABELS
from app.uploads import sniff, storage_dir

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PENDING = "plan-imports"  # under UPLOAD_FOLDER: outside the web root
PENDING_HOURS = 24
MAX_UNZIPPED = 64 * 1024 * 1024  # a workbook that inflates beyond this is refused (zip bomb)
TOKEN = re.compile(r"^[0-9a-f]{40}$")


class ImportRefused(ValueError):
    """The upload cannot be imported; the message (Chinese) says why."""


# -- the upload ------------------------------------------------------------------


def check_upload(storage) -> tuple[str, bytes]:
    """The file's name and bytes when it is a real .xlsx within the size limit."""
    if storage is None or not storage.filename:
        raise ImportRefused("请选择要导入的 Excel 工作簿（.xlsx 文件）。")
    name = storage.filename.strip()
    if not name.lower().endswith(".xlsx"):
        raise ImportRefused(f"文件“{name}”不是 .xlsx 工作簿：只接受本系统导出格式的 Excel 文件（.xlsx）。")
    data = storage.read()
    if not data:
        raise ImportRefused(f"文件“{name}”为空。")
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if len(data) > limit:
        raise ImportRefused(f"文件“{name}”超过 {limit // (1024 * 1024)} MB 上限。")
    if sniff(data) != XLSX or not _is_workbook(data):
        raise ImportRefused(f"文件“{name}”的内容不是有效的 Excel 工作簿（.xlsx）。")
    return name, data


def _is_workbook(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            return "xl/workbook.xml" in names and sum(i.file_size for i in infos) <= MAX_UNZIPPED
    except zipfile.BadZipFile:
        return False


def _pending_dir():
    path = storage_dir() / PENDING
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pending_path(user_id: int, token: str):
    if not TOKEN.match(token or ""):
        return None
    return _pending_dir() / f"{int(user_id)}-{token}.xlsx"


def store_pending(user_id: int, data: bytes) -> str:
    """Keep an upload until it is applied; returns its random token. Old ones are cleared."""
    cutoff = time.time() - PENDING_HOURS * 3600
    for old in _pending_dir().glob("*.xlsx"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(20)
    _pending_path(user_id, token).write_bytes(data)
    return token


def read_pending(user_id: int, token: str) -> bytes | None:
    path = _pending_path(user_id, token)
    return path.read_bytes() if path is not None and path.is_file() else None


def discard_pending(user_id: int, token: str) -> None:
    path = _pending_path(user_id, token)
    if path is not None:
        path.unlink(missing_ok=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- reading and checking ---------------------------------------------------------


def parse(data: bytes, filename: str, plan) -> tuple[dict | None, list[str]]:
    """Plan data and every problem, in Chinese at its cell; the workbook must be this plan's."""
    parsed, errors = check_xlsx(data, filename)
    messages = [message(e) for e in errors]
    if parsed is None:
        return None, messages
    code = parsed.get("code")
    if code and code != plan.code:
        messages.insert(
            0,
            f"该工作簿是计划“{code}”的（工作表“计划”的“代码”），不是本计划“{plan.code}”的；请上传本计划的工作簿。",
        )
    region = parsed.get("region") or {}
    wanted = (plan.region.name, plan.region.kind, plan.region.parent.name if plan.region.parent else None)
    got = (region.get("name"), region.get("kind"), region.get("parent"))
    if region.get("name") and got != wanted:
        messages.insert(
            0 if not messages else 1,
            f"工作簿的地区（{'、'.join(str(x) for x in got if x)}）与本计划的地区"
            f"（{'、'.join(x for x in wanted if x)}）不同；网页导入不能更改计划所属地区。",
        )
    return (None if messages else parsed), messages


def fingerprint(plan) -> str:
    """The plan as the loader would meet it: its content, its milestones' versions and
    the work that decides what pruning keeps. Any change meanwhile changes this."""
    state = {"plan": export_plan(plan.code)}
    ms = select(Milestone.id).where(Milestone.plan_id == plan.id)
    state["versions"] = db.session.execute(
        select(Milestone.id, Milestone.version).where(Milestone.plan_id == plan.id).order_by(Milestone.id)
    ).all()
    for model, label in MILESTONE_REFS:
        state[label] = db.session.execute(
            select(model.milestone_id, func.count())
            .where(model.milestone_id.in_(ms))
            .group_by(model.milestone_id)
            .order_by(model.milestone_id)
        ).all()
    state["values"] = db.session.execute(
        select(IndicatorValue.indicator_id, func.count())
        .join(Indicator, IndicatorValue.indicator_id == Indicator.id)
        .where(Indicator.plan_id == plan.id)
        .group_by(IndicatorValue.indicator_id)
        .order_by(IndicatorValue.indicator_id)
    ).all()
    text = json.dumps(state, ensure_ascii=False, sort_keys=True, default=lambda v: list(v))
    return hashlib.sha256(text.encode()).hexdigest()


def token_for(file_sha: str, state: str) -> str:
    return f"{file_sha}:{state}"


# -- the loader, watched ------------------------------------------------------------


@contextmanager
def _audit_rows(user_id: int | None = None):
    """Collect the AuditEvents the session writes while the block runs; with user_id,
    they are the user's (set before they are inserted: audit rows are never updated)."""
    session = db.session()
    found: list[AuditEvent] = []

    def collect(sess, _ctx, _instances):
        new = [o for o in sess.new if isinstance(o, AuditEvent)]
        for row in new:
            if user_id is not None and row.user_id is None:
                row.user_id = user_id
        found.extend(new)

    event.listen(session, "before_flush", collect)
    try:
        yield found
    finally:
        event.remove(session, "before_flush", collect)


def _load(data: dict, filename: str, user_id: int | None = None) -> tuple[PlanResult, list[AuditEvent]]:
    with _audit_rows(user_id) as events:
        report = load_parsed([(filename, data)], commit=False)
        db.session.flush()
    if not report.ok:  # the loader's cross-file checks: cannot happen for one file, kept honest
        raise ImportRefused("；".join(message(e) for e in report.errors))
    return report.plans[0], events


# -- the preview ----------------------------------------------------------------------

VERBS = {"create": "新增", "update": "修改", "delete": "删除"}
SECTIONS = ["Milestone", "PlanNode", "Indicator", "Dependency", "Department", "Plan", "Region"]
FIELD_LABELS = {
    "title": "名称",
    "name": "名称",
    "text": "内容",
    "due_date": "完成期限",
    "baseline_due_date": "基线期限",
    "lead_department_id": "牵头部门",
    "co_departments": "配合部门",
    "indicators": "关联指标",
    "departments": "责任部门",
    "predecessors": "前置里程碑",
    "targets": "目标",
    "source": "出处",
    "node_id": "所属节点",
    "parent_id": "上级节点",
    "kind": "类别",
    "number": "编号",
    "unit": "单位",
    "definition": "指标释义",
    "table_name": "表",
    "category": "一级指标",
    "parts": "分项",
    "star": "★",
    "four_star_target": "四星目标",
    "four_star_op": "四星比较",
    "four_star_value": "四星值",
    "four_star_due": "四星期限",
    "five_star_target": "五星目标",
    "five_star_op": "五星比较",
    "five_star_value": "五星值",
    "five_star_due": "五星期限",
    "weight_four_star": "四星权重",
    "weight_five_star": "五星权重",
    "standard_indicator": "标准指标编号",
    "lag_days": "滞后天数",
    "inferred": "推断",
    "reason": "理由",
    "issued": "发布日期",
    "period_start": "起始日期",
    "period_end": "结束日期",
    "standard_code": "考核标准",
    "target_stars": "目标星级",
    "target_date": "目标日期",
    "position": "顺序",
}
DATE_FIELDS = {"due_date", "baseline_due_date", "four_star_due", "five_star_due", "issued"}
DATE_FIELDS |= {"period_start", "period_end", "target_date"}
ORPHAN_PARTS = [
    (r"(\d+) progress reports?", "{} 份进展汇报"),
    (r"(\d+) evidence files?", "{} 个佐证材料"),
    (r"(\d+) notices?", "{} 份督办单"),
    (r"(\d+) reminders?", "{} 条提醒记录"),
    (r"(\d+) extensions?", "{} 次延期"),
    (r"(\d+) values?", "{} 个指标数值"),
    (r"(\d+) milestones", "{} 个里程碑"),
    (r"(\d+) child nodes", "{} 个下级节点"),
]
STATUS = {"not_started": "未开始", "in_progress": "进行中", "blocked": "受阻", "done": "已完成"}


@dataclass
class Change:
    kind: str  # model name
    verb: str  # 新增 / 修改 / 删除
    key: str
    title: str = ""
    fields: list = field(default_factory=list)  # (label, old, new)


@dataclass
class Preview:
    result: PlanResult
    changes: dict = field(default_factory=dict)  # model name -> [Change]
    orphaned: list = field(default_factory=list)  # Chinese sentences
    reordered: int = 0  # items whose only change is their position

    @property
    def empty(self) -> bool:
        return not self.result.changed

    def counts(self) -> list[str]:
        out = []
        for verb, counts in (("新增", self.result.created), ("修改", self.result.updated)):
            out += [f"{verb}{KIND_LABELS.get(k, k)} {n}" for k, n in counts.items()]
        out += [f"删除{KIND_LABELS.get(k, k)} {n}" for k, n in self.result.deleted.items()]
        return out

    def sections(self) -> list[tuple[str, list[Change]]]:
        return [(KIND_LABELS[k], self.changes[k]) for k in SECTIONS if self.changes.get(k)]


def _cn_date(text):
    return cn_date(as_date(text))


def _shown(name: str, value, names: dict) -> str:
    if value is None or value == [] or value == "":
        return "（空）"
    if name in DATE_FIELDS and isinstance(value, str):
        return _cn_date(value)
    if name == "lead_department_id":
        return names["departments"].get(value, str(value))
    if name in ("node_id", "parent_id"):
        return names["nodes"].get(value, str(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _snapshot_names(plan) -> dict:
    """Ids and keys the preview names things by (read before and after the dry run)."""
    nodes = db.session.execute(
        select(PlanNode.id, PlanNode.key, PlanNode.title).where(PlanNode.plan_id == plan.id)
    )
    ms = db.session.execute(select(Milestone.key, Milestone.title).where(Milestone.plan_id == plan.id))
    depts = db.session.execute(
        select(Department.id, Department.name).where(Department.region_id == plan.region_id)
    )
    return {
        "nodes": {i: f"{key}（{title}）" for i, key, title in nodes},
        "milestones": dict(ms.all()),
        "departments": dict(depts.all()),
        "predecessors": _predecessors(plan),
    }


def _predecessors(plan) -> dict[str, list[str]]:
    pred, succ = aliased(Milestone), aliased(Milestone)
    rows = db.session.execute(
        select(succ.key, pred.key)
        .select_from(Dependency)
        .join(pred, Dependency.predecessor_id == pred.id)
        .join(succ, Dependency.successor_id == succ.id)
        .where(Dependency.plan_id == plan.id)
        .order_by(succ.key, pred.key)
    )
    out: dict[str, list[str]] = {}
    for s, p in rows:
        out.setdefault(s, []).append(p)
    return out


def _label(ev: AuditEvent) -> str:
    """The object's key as the writer's summary names it: 计划文件更新里程碑 KEY（code）."""
    text = ev.summary.split(" ", 1)[1] if " " in ev.summary else ev.summary
    return re.sub(r"（[^（）]*）$", "", text)


def _describe(result: PlanResult, events: list[AuditEvent], before: dict, after: dict) -> Preview:
    names = {
        "departments": before["departments"] | after["departments"],
        "nodes": before["nodes"] | after["nodes"],
    }
    titles = before["milestones"] | after["milestones"]
    preview = Preview(result=result)
    by_key: dict[tuple, Change] = {}
    for ev in events:
        verb = ev.action.rsplit(".", 1)[-1]
        if verb not in VERBS:
            continue  # the plan's summary row
        key = _label(ev)
        change = Change(
            ev.object_type, VERBS[verb], key, titles.get(key, "") if ev.object_type == "Milestone" else ""
        )
        if verb == "update":
            for name, old in (ev.before or {}).items():
                new = (ev.after or {}).get(name)
                change.fields.append(
                    (FIELD_LABELS.get(name, name), _shown(name, old, names), _shown(name, new, names))
                )
            if all(label == FIELD_LABELS["position"] for label, _, _ in change.fields):
                preview.reordered += 1
                continue
        elif verb == "create" and ev.object_type == "Milestone":
            a = ev.after or {}
            change.title = a.get("title", "")
            change.fields.append((FIELD_LABELS["due_date"], "", _shown("due_date", a.get("due_date"), names)))
        by_key[(ev.object_type, key)] = change
        preview.changes.setdefault(ev.object_type, []).append(change)
    old_preds, new_preds = before["predecessors"], after["predecessors"]
    for key in sorted(set(old_preds) | set(new_preds)):
        old, new = old_preds.get(key, []), new_preds.get(key, [])
        if old == new or key not in titles:
            continue
        change = by_key.get(("Milestone", key))
        if change is None:
            change = Change("Milestone", VERBS["update"], key, titles[key])
            preview.changes.setdefault("Milestone", []).append(change)
            by_key[("Milestone", key)] = change
        change.fields.append((FIELD_LABELS["predecessors"], _shown("", old, names), _shown("", new, names)))
    preview.orphaned = [_orphan(item, titles) for item in result.orphaned]
    return preview


def _orphan(item: str, titles: dict) -> str:
    """`Milestone wh-x: 1 progress report, progress in_progress 40%` in Chinese."""
    head, _, refs = item.partition(": ")
    kind, _, key = head.partition(" ")
    parts = []
    for ref in refs.split(", "):
        m = re.fullmatch(r"progress (\w+) (\d+)%", ref)
        if m:
            parts.append(f"进度 {STATUS.get(m[1], m[1])} {m[2]}%")
            continue
        for pattern, text in ORPHAN_PARTS:
            m = re.fullmatch(pattern, ref)
            if m:
                parts.append(text.format(m[1]))
                break
        else:
            parts.append(ref)
    title = f"（{titles[key]}）" if kind == "Milestone" and key in titles else ""
    what = KIND_LABELS.get(kind, kind)
    return f"{what} {key}{title} 已不在工作簿中，但已有 {'、'.join(parts)}，将保留，不会删除。"


def preview(data: dict, filename: str, plan) -> Preview:
    """What applying would change; the database is left exactly as it was."""
    before = _snapshot_names(plan)
    plan_id = plan.id
    try:
        result, events = _load(data, filename)
        after = _snapshot_names(db.session.get(type(plan), plan_id))
        return _describe(result, events, before, after)
    finally:
        db.session.rollback()


def apply(data: dict, filename: str, plan, user, file_sha: str) -> PlanResult:
    """Load the workbook into the session (the caller commits): the loader's rows are the
    user's, plus one summary row of the import."""
    result, _ = _load(data, filename, user.id)
    counts = {"created": result.created, "updated": result.updated, "deleted": result.deleted}
    audit.record(
        user,
        "plan.import_xlsx",
        plan,
        f"网页导入计划工作簿“{filename}”：" + "，".join(Preview(result).counts() or ["无变化"]),
        after=counts | {"orphaned": result.orphaned, "sha256": file_sha},
    )
    db.session.flush()
    return result
